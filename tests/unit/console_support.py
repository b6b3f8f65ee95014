"""A console over an in-memory AWS (moto's S3 and DynamoDB) with the real modules: visits stored by the Lambda's
own VisitReports, clips recorded as devices record them (mp4v), the recognizer's real face pipeline."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import cv2
import numpy as np

from facegate_contract import StackOutputs, clip_key
from recognizer.face_library.stack_access import StackAccess
from facegate_contract.wire import VisitReport, convert
from recognizer.control.visit_reports import VisitReports
from tests.conftest import ROOT

PASSWORD = "correct horse battery staple"
API_KEY = "dev-api-key-THAT-MUST-NEVER-SHOW"
AWS_SECRET = "aws-secret-THAT-MUST-NEVER-SHOW"
REGION = "us-east-1"
DEMO_VIDEO = ROOT / "fixtures" / "videos" / "demo.mp4"


def demo_frames() -> list[np.ndarray]:
    """The demo video's frames (RGB)."""
    capture = cv2.VideoCapture(str(DEMO_VIDEO))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def write_mp4v(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> None:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


@dataclass
class FakeStack:
    outputs: StackOutputs
    access: StackAccess
    s3: Any
    visits: VisitReports
    pipeline: Any
    tmp: Path
    seq: int = 0

    def add_clip(self, device: str, frames: list[np.ndarray], frame_index: int, at: float) -> tuple[str, dict]:
        """Upload a clip as a device does (mp4v, its metadata); returns its key and the face box in the frame."""
        self.seq += 1
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"
        key = clip_key(device, f"{stamp}-{self.seq:06d}")
        path = self.tmp / f"clip-{self.seq}.mp4"
        write_mp4v(path, frames)
        self.s3.put_object(Bucket=self.outputs.bucket, Key=key, Body=path.read_bytes(), ContentType="video/mp4",
                           Metadata={"codec": "mp4v", "frame-index": str(frame_index), "device": device})
        detections = self.pipeline.detector.detect(frames[frame_index])
        assert detections, "the test clip's recognised frame must show a face"
        x1, y1, x2, y2 = max(detections, key=lambda d: d.area).box
        return key, {"x1": x1, "y1": y1, "x2": x2, "y2": y2}

    def bundle(self, device: str, visit_id: str, keys: list[str], upload: bool = True, key: str | None = None) -> str:
        """Move clips into their visit's bundle as a device makes it (its own BundleStore: one ZIP_STORED zip,
        members `<clip-id>.mp4` with their metadata): the clips' own objects go; returns the bundle's key (not
        uploaded with `upload=False`: the device has not sent it yet). `key`: another bundle key than the visit's
        (a footage request's, `visit_id` then being the request id)."""
        from facegate_contract import bundle_key, parse_clip_key
        from pi_app.recording.visit_bundles import BundleMember, BundleStore

        members = []
        for i, clip in enumerate(keys):
            response = self.s3.get_object(Bucket=self.outputs.bucket, Key=clip)
            path = self.tmp / f"member-{i}.mp4"
            path.write_bytes(response["Body"].read())
            members.append(BundleMember(parse_clip_key(clip)[1], path, response["Metadata"]))  # type: ignore[index]
            self.s3.delete_object(Bucket=self.outputs.bucket, Key=clip)
        zipped = BundleStore(self.tmp / "device-spool").write_zip(visit_id, members)
        key = key or bundle_key(device, visit_id)
        if upload:
            self.s3.put_object(Bucket=self.outputs.bucket, Key=key, Body=zipped.read_bytes(),
                               ContentType="application/zip")
        return key

    def add_visit(self, device: str, decision: str, clips: list[tuple[str, dict]], at: float, name: str | None = None,
                  confidence: float = 0.9, bundle: str | None = None) -> str:
        """Report a visit through the Lambda's own VisitReports (naming its bundle, if given); returns its id."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"
        visit_id = f"{stamp}-{self.seq:08x}"
        evidence = [{"key": key, "name": name or decision, "confidence": confidence, "box": box, "at": at + i * 0.5}
                    for i, (key, box) in enumerate(clips)]
        self.visits.report(device, convert({
            "visit_id": visit_id, "first_at": at, "last_at": at + 0.5 * len(clips), "decision": decision,
            "confidence": confidence, "agreeing": len(clips), "keys": [k for k, _ in clips], "evidence": evidence,
            "ended": True, "bundle": bundle}, VisitReport))
        return visit_id

    def visit_id(self, at: float) -> str:
        """The id add_visit gives the next visit at `at` (a bundle's key is made from it before the report)."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"
        return f"{stamp}-{self.seq:08x}"


def open_fake_stack(tmp_path: Path, pipeline: Any) -> FakeStack:
    """Inside moto's mock_aws: the bucket and tables a deploy makes, and the console password set."""
    session = boto3.Session(region_name=REGION)
    s3 = session.client("s3")
    dynamodb = session.client("dynamodb")
    bucket = "facegate-123456789012-us-east-1"
    s3.create_bucket(Bucket=bucket)
    for name, keys in (("facegate-people", [("person", "HASH")]),
                       ("facegate-sightings", [("person", "HASH"), ("seen_at", "RANGE")])):
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
                              AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys])
    outputs = StackOutputs.build(region=REGION, endpoint_url=None, api_id="abc123", stage="live", api_key=API_KEY,
                                 bucket=bucket, people_table="facegate-people", sightings_table="facegate-sightings",
                                 function_name="facegate-recognizer", devices_table="facegate-devices")
    from services import console_login

    console_login.store_login(s3, bucket, console_login.hash_password(PASSWORD))
    visits = VisitReports(session.resource("dynamodb").Table("facegate-sightings"))
    return FakeStack(outputs, StackAccess(outputs, session), s3, visits, pipeline, tmp_path)
