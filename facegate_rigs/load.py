"""Many devices at once against the local stack: each a real device app (its own device file, spool, workers,
clips through presigned URLs) recording a doorway video in real time at 2 clips/s, all in one process.

The video is a light one (320x240, 4 fps: two frames a clip) so that the simulated devices cost the machine
little and the load lands on the stack. Used by tests/integration/test_load.py (sized for CI) and
scripts/bench/load.py (16 devices for 2 minutes).
"""
from __future__ import annotations

import statistics
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2

from facegate_contract.device_events import (ClipRecognition, ClipRecorded, ClipUploaded, StageFailed, Throttled,
                                             events_of)
from pi_app.transport.backoff import Backoff
from pi_app.camera.video_file import VideoFileCamera
from pi_app.recording.upload_policy import UploadPolicy
from pi_app.runtime.device_app import DeviceApp, DeviceConfig
from pi_app.runtime.events import read_events
from pi_app.recording.motion_gate import MotionPolicy
from pi_app.visits.tracking_skip import TrackingPolicy
from pi_app.transport.stack_connection import connect

LOAD_FPS = 4
LOAD_SIZE = (320, 240)


def light_doorway_video(source: Path, out: Path) -> Path:
    """The fixture video at 320x240 and 4 fps (same scenes, a fraction of the decoding and encoding)."""
    capture = cv2.VideoCapture(str(source))
    step = max(1, round(capture.get(cv2.CAP_PROP_FPS) / LOAD_FPS))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), LOAD_FPS, LOAD_SIZE)
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            writer.write(cv2.resize(frame, LOAD_SIZE, interpolation=cv2.INTER_AREA))
        index += 1
    capture.release()
    writer.release()
    return out


@dataclass
class LoadReport:
    """What the devices saw."""

    devices: int
    seconds: float
    clips: int = 0
    uploaded: int = 0
    pending: int = 0
    statuses: Counter = field(default_factory=Counter)  # recognition outcomes
    server_errors: int = 0  # 5xx answers seen by the devices
    throttled: int = 0
    latency_ms: list[float] = field(default_factory=list)
    oldest_answer_s: float = 0.0  # the longest a clip waited for its answer (recorded -> answered)
    drained_after_s: float = 0.0  # from the last clip recorded to the last upload, over all devices

    def to_json(self) -> dict[str, Any]:
        ordered = sorted(self.latency_ms)
        pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))], 1) if ordered else None  # noqa: E731
        return {"devices": self.devices, "seconds": self.seconds, "clips": self.clips, "uploaded": self.uploaded,
                "pending": self.pending, "recognitions": dict(self.statuses), "server_errors": self.server_errors,
                "throttled": self.throttled, "latency_ms": {"p50": pick(0.5), "p95": pick(0.95),
                                                            "mean": round(statistics.fmean(ordered), 1) if ordered else None},
                "oldest_answer_s": round(self.oldest_answer_s, 1), "drained_after_s": round(self.drained_after_s, 1),
                "clips_per_s": round(self.clips / self.seconds, 1) if self.seconds else None}


def run_devices(device_files: list[Path], video: Path, work: Path, seconds: float, stale_after_s: float,
                drain_timeout_s: float = 120.0) -> LoadReport:
    """Run one device app per device file for `seconds` of video, all at once, each then draining its spool for up to
    `drain_timeout_s`; returns what they saw."""
    summaries: dict[str, dict] = {}

    def one(device_file: Path, folder: Path) -> None:
        connection = connect(device_file=device_file)
        config = DeviceConfig(device_id=connection.device_id, spool_dir=folder / "spool",
                              events_path=folder / "events.jsonl", duration_s=seconds, drain_timeout_s=drain_timeout_s,
                              stale_after_s=stale_after_s, motion=MotionPolicy(enabled=False),
                              tracking=TrackingPolicy(enabled=False),  # the load is every clip's request
                              upload=UploadPolicy(mode="all"),  # the load is every clip's upload as well
                              recognize_backoff=Backoff(base_s=0.5, max_s=4.0),
                              upload_backoff=Backoff(base_s=0.5, max_s=4.0))
        try:
            summaries[connection.device_id] = DeviceApp(config, VideoFileCamera(video, realtime=True, loop=True),
                                                        connection.recognizer, connection.uploader).run()
        finally:
            connection.close()

    folders = [work / f"device-{n}" for n in range(len(device_files))]
    threads = [threading.Thread(target=one, args=(f, d)) for f, d in zip(device_files, folders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + drain_timeout_s + 180)
    report = LoadReport(devices=len(device_files), seconds=seconds)
    last_recorded = last_upload = 0.0
    for folder in folders:
        events = read_events(folder / "events.jsonl")
        recorded = {e.clip: e for e in events_of(events, ClipRecorded)}
        uploads = events_of(events, ClipUploaded)
        report.clips += len(recorded)
        report.uploaded += len({e.clip for e in uploads})
        last_recorded = max([last_recorded] + [_parse_ts(e.ts) for e in recorded.values()])
        last_upload = max([last_upload] + [_parse_ts(e.ts) for e in uploads])
        for event in events:
            if isinstance(event, ClipRecognition):
                report.statuses[event.status] += 1
                if event.latency_ms is not None:
                    report.latency_ms.append(event.latency_ms)
                if event.status in ("recognised", "unknown", "no_face") and event.recorded_at is not None:
                    waited = _parse_ts(event.ts) - event.recorded_at
                    report.oldest_answer_s = max(report.oldest_answer_s, waited)
            elif isinstance(event, (StageFailed, Throttled)):
                status = _status_of(event.error)
                report.server_errors += status is not None and status >= 500
                report.throttled += isinstance(event, Throttled)
    report.drained_after_s = max(0.0, last_upload - last_recorded)
    report.pending = sum(s.get("pending", 0) for s in summaries.values()) + (len(folders) - len(summaries))
    return report


def _parse_ts(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def _status_of(error: str) -> int | None:
    """The HTTP status in a worker's error text ("... answered 503 ..."), if any."""
    words = error.split()
    for before, word in zip(words, words[1:]):
        if before == "answered" and word[:3].isdigit():
            return int(word[:3])
    return None
