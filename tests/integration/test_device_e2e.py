"""Camera shim → clips → API Gateway → image Lambda → DynamoDB → device, and clips → S3."""
from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from pathlib import Path

from boto3.dynamodb.conditions import Key

from pi_app.tools.run_check import check_run
from pi_app.tools.video_manifest import VideoManifest
from facegate_contract import DeviceFile, StackOutputs, bundle_key
from services.target import Target
from tests.conftest import ROOT
from tests.integration.conftest import post_frame
from tests.integration.stored_clips import stored_clips
from facegate_rigs.device_run import run_device

DEMO = ROOT / "fixtures" / "videos" / "demo.json"


def _wait_for_model(outputs: StackOutputs, probe: bytes) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        version = post_frame(outputs, probe).json().get("model_version", "")
        if version != "none":
            time.sleep(3)  # refresh period of the test deploy is 2 s: the latest version is live after it
            return
        time.sleep(1)


def test_recognitions_match_the_manifest_and_every_visits_footage_is_in_s3(
        deployed: tuple[StackOutputs, Path], lfw_video: VideoManifest, target: Target, tmp_path: Path,
        probe_jpeg: bytes, add_device) -> None:
    outputs = deployed[0]
    _wait_for_model(outputs, probe_jpeg)
    device = f"it-e2e-{uuid.uuid4().hex[:6]}"  # the emulator may keep clips of earlier runs
    run = run_device(add_device(device), lfw_video.video, tmp_path, realtime=False)

    check = check_run(run.events, lfw_video, 0.5)
    assert len(check.clips) == int(lfw_video.duration_s / 0.5)
    assert check.mismatches == [], [(c.offset_s, c.expected, c.got, c.status) for c in check.mismatches]
    assert {c.got for c in check.clips} >= {(), ("Eileen_Collins",), ("Laura_Bush",), ("unknown",),
                                            ("Eileen_Collins", "Laura_Bush")}
    assert run.summary["pending"] == 0 and run.summary["failures"] == 0

    s3 = target.client("s3")
    for upload in run.of("upload"):
        head = s3.head_object(Bucket=outputs.bucket, Key=upload.key)
        assert head["ContentLength"] > 0
        assert head["Metadata"]["device"] == device
        assert head["Metadata"]["recognition"] in ("recognised", "unknown", "no_face")
    stored = stored_clips(s3, outputs.bucket, device)
    # The device's default upload policy: a visit's clips (and a margin before, its tail after) in S3 as one bundle
    # a visit, the empty doorway kept on the device; nothing alone here (no alert asked for a clip now).
    bundles = run.of("bundle_uploaded")
    assert bundles and stored.objects == {b.key for b in bundles} | {u.key for u in run.of("upload")}
    for bundle in bundles:  # each bundle holds exactly the clips the device said it put in
        assert sorted(stored.bundles[bundle.key]) == sorted(bundle.keys)
    assert len(bundles) + len(run.of("upload")) < len(stored.clips)  # fewer PUTs than clips stored
    assert check.not_stored == [] and check.faces_not_uploaded == []
    assert check.kept - check.uploaded == {p.name for p in (tmp_path / "spool" / ".kept").iterdir()}
    visits = run.of("visit_ended")
    assert visits and all(set(v.keys) <= stored.clips for v in visits)
    for key in visits[0].keys:  # each clip of the visit plays from its bundle
        _plays(stored.body(key), tmp_path / "visit.mp4")
    table = target.resource("dynamodb").Table(outputs.sightings_table)
    named = {v.visit_id: table.get_item(Key={"person": "#visit", "seen_at": v.visit_id})["Item"].get("bundle")
             for v in visits}
    assert named == {visit: bundle_key(device, visit) for visit in named}  # each record says where its footage is
    assert set(named.values()) & set(stored.bundles)

    laura = table.query(KeyConditionExpression=Key("person").eq("Laura_Bush"))["Items"]
    assert sum(1 for i in laura if i["device"] == device and i["clip_key"] in stored.clips) == \
        sum(c.got.count("Laura_Bush") for c in check.clips)


def _plays(video: bytes, path: Path) -> None:
    """The clip decodes: a browser's <video> gets what OpenCV can read here (an MP4 with frames)."""
    import cv2

    path.write_bytes(video)
    capture = cv2.VideoCapture(str(path))
    try:
        assert capture.read()[0], "the clip in S3 does not decode"
    finally:
        capture.release()


def test_emulator_outage_loses_no_clip(deployed: tuple[StackOutputs, Path], enrolled: StackOutputs, target: Target,
                                       tmp_path: Path, add_device) -> None:
    """Stop the emulator for ~10 s in the middle of a real-time run: every clip still arrives."""
    outputs = deployed[0]
    device = f"it-outage-{uuid.uuid4().hex[:6]}"
    outage: dict[str, float] = {}

    def cut_power(_app) -> None:
        def outage_thread() -> None:
            time.sleep(5)
            outage["stop"] = time.time()
            subprocess.run(["docker", "compose", "stop", "-t", "60", "emulator"], cwd=ROOT, check=True, capture_output=True)
            time.sleep(10)
            subprocess.run(["docker", "compose", "start", "emulator"], cwd=ROOT, check=True, capture_output=True)
            outage["start"] = time.time()
        threading.Thread(target=outage_thread, daemon=True).start()

    manifest = VideoManifest.read(DEMO)
    run = run_device(add_device(device), manifest.video, tmp_path, realtime=True, loop=True, duration_s=22.0,
                     drain_timeout_s=120.0, app_hook=cut_power)
    assert outage.get("start"), "the outage thread did not finish"
    recorded = {e.clip for e in run.of("clip_recorded")}
    assert len(recorded) == 44
    assert run.summary["pending"] == 0, run.summary
    assert run.of("failure"), "the outage should have caused failed attempts that were retried"
    stored = stored_clips(target.client("s3"), outputs.bucket, device)
    uploaded = {e.clip for e in run.of("upload")} | {c for e in run.of("bundle_uploaded") for c in e.clips}
    kept = {e.clip for e in run.of("kept")} - uploaded
    # Every clip and bundle the device uploaded, through the outage, and each bundle's clips in it.
    assert stored.objects == {e.key for e in run.of("upload")} | {e.key for e in run.of("bundle_uploaded")}
    assert stored.clips == {e.key for e in run.of("upload")} | {k for e in run.of("bundle_uploaded") for k in e.keys}
    assert uploaded | kept == recorded and not uploaded & kept  # the rest is kept on the device, none lost
    assert {e.clip for e in run.of("recognition") if e.names} <= uploaded
    assert {e.clip for e in run.of("recognition")} == recorded


def test_eight_concurrent_raw_clients_get_answers_or_json_throttling(deployed: tuple[StackOutputs, Path],
                                                                     probe_jpeg: bytes, add_device) -> None:
    """Eight clients with their own keys, all at once and as fast as they can (no device app): each request gets
    an answer (200) or a JSON 429 (the recognizer's reserved concurrency is this machine's cores); never a 5xx or a
    lost response. Polite clients wait the Retry-After they are given (tests/integration/test_load.py)."""
    devices = [DeviceFile.read(add_device(f"it-many-{n}-{uuid.uuid4().hex[:4]}")) for n in range(8)]
    results: list[tuple[int, str]] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.time() + 15

    def client(device: DeviceFile) -> None:
        import requests

        session = requests.Session()
        session.headers.update({"x-api-key": device.api_key, "Content-Type": "image/jpeg"})
        while time.time() < stop_at:
            try:
                response = session.post(device.recognize_url, data=probe_jpeg, timeout=60)
                answer = response.json()  # never anything but JSON
                error = "" if response.status_code == 200 else answer.get("error") or answer.get("message", "")
                with lock:
                    results.append((response.status_code, error))
                if response.status_code == 429:
                    time.sleep(0.2)
            except Exception as exc:  # a lost response, or a body that is not JSON, is a failure of the system
                with lock:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(device,)) for device in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = {s: sum(1 for r in results if r[0] == s) for s in {r[0] for r in results}}
    assert errors == []
    assert set(statuses) <= {200, 429} and statuses.get(200, 0) >= 8, statuses
    # the gateway's own throttle is our {error, message}; the emulator's Lambda throttle is Lambda's JSON
    assert all(error for status, error in results if status == 429)
    print(json.dumps({"requests": len(results), "statuses": statuses}))
