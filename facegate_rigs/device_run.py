"""Run the real device app (video camera shim) against the deployed stack, for the e2e tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pi_app.transport.backoff import Backoff
from pi_app.camera.video_file import VideoFileCamera
from pi_app.runtime.device_app import DeviceApp, DeviceConfig
from facegate_contract.device_events import AnyDeviceEvent
from pi_app.runtime.events import read_events
from pi_app.recording.motion_gate import MotionPolicy
from pi_app.visits.tracking_skip import TrackingPolicy
from pi_app.recording.upload_policy import UploadPolicy
from pi_app.transport.stack_connection import connect
from pi_app.transport.visit_reporter import VisitReporter


@dataclass
class DeviceRun:
    summary: dict[str, Any]
    events: list[AnyDeviceEvent]

    def of(self, kind: str) -> list[Any]:
        """The run's events named `kind` (`upload`, `recognition`...)."""
        return [e for e in self.events if e.name == kind]


def run_device(device_file: Path, video: Path, work: Path, *, realtime: bool, loop: bool = False,
               duration_s: float | None = None, drain_timeout_s: float = 120.0, app_hook=None,
               motion: MotionPolicy = MotionPolicy(enabled=False),
               upload: UploadPolicy = UploadPolicy(),
               tracking: TrackingPolicy = TrackingPolicy(enabled=False)) -> DeviceRun:
    """Play `video` through DeviceApp as the device of `device_file` (API key only, no AWS credentials);
    `app_hook(app)` runs before start (e.g. to stop it from a thread). Every clip is recognised (the motion gate
    is off, and so is the tracking skip of decided visits) unless `motion` / `tracking` say otherwise: these runs
    check each clip's answer. `upload`: the device's default
    (a visit's clips to S3, an empty doorway kept in the spool's `.kept/`) unless told otherwise."""
    connection = connect(device_file=device_file)
    config = DeviceConfig(device_id=connection.device_id, spool_dir=work / "spool", events_path=work / "events.jsonl",
                          stream_clock=not realtime, motion=motion, upload=upload, tracking=tracking,
                          duration_s=duration_s, drain_timeout_s=drain_timeout_s, stale_after_s=600.0,
                          recognize_backoff=Backoff(base_s=0.5, max_s=4.0), upload_backoff=Backoff(base_s=0.5, max_s=4.0))
    reporter = VisitReporter(work / "visits", connection.report_visit,
                             bundle_of=upload.bundle_of(connection.device_id)).start()
    app = DeviceApp(config, VideoFileCamera(video, realtime=realtime, loop=loop), connection.recognizer,
                    connection.uploader, sinks=[reporter])
    if app_hook is not None:
        app_hook(app)
    try:
        summary = app.run()
    finally:
        reporter.close(flush_timeout_s=30)
        connection.close()
    return DeviceRun(summary, read_events(work / "events.jsonl"))
