"""The hard doorway through the real device app with its actions (door relay, stranger alerts to a loopback
webhook receiver) and visit reports: what the visits test checks and what the cost benchmark counts."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from facegate_contract.device_events import AnyDeviceEvent
from facegate_rigs.paths import ROOT
from facegate_rigs.scripted_server import scripted_server
from pi_app.actions import DeviceActions, parse_actions_config
from pi_app.camera.video_file import VideoFileCamera
from pi_app.runtime.device_app import DeviceApp, DeviceConfig
from pi_app.runtime.event_relay import EventRelay
from pi_app.runtime.events import read_events
from pi_app.recording.motion_gate import MotionPolicy
from pi_app.recording.upload_policy import UploadPolicy
from pi_app.visits.tracking_skip import TrackingPolicy
from pi_app.transport.stack_connection import connect
from pi_app.tools.video_manifest import VideoManifest
from pi_app.transport.visit_reporter import DEFAULT_HOLD_S, VisitReporter

KNOWN = ("Laura_Bush", "Vladimir_Putin")  # Laura may enter, Vladimir may not (services/data/people.json)

RULES = """
[gpio]
backend = "fake"
[outputs.green_led]
pin = 17
[outputs.red_led]
pin = 27
[outputs.door_relay]
pin = 23
kind = "door"
[on.known]
signals = [{{ output = "green_led", seconds = 0.2 }}]
door = {{ output = "door_relay", seconds = 0.2 }}
[on.unknown]
signals = [{{ output = "red_led", seconds = 0.2 }}]
alert = true
[webhook]
url = "{url}"
allow_http = true
backoff = {{ base_s = 0.2, max_s = 1, jitter = 0 }}
"""



def enrol_and_build(lfw_dev: Path, outputs_path: Path, out: Path, videos: str = "--hard") -> VideoManifest:
    """Enrol the doorway's known people (their training/ photos) and build the video from their val/ photos
    (`videos`: --hard, the hard doorway; --identity, every identity case: the first one's manifest is returned,
    the others are beside it, identity_manifests)."""
    for name in KNOWN:
        photos = sorted((lfw_dev / "training" / name).glob("*.jpg"))
        enrol = subprocess.run([sys.executable, "-m", "facegate_cli", "enroll", "--name", name, "--outputs",
                                str(outputs_path), *map(str, photos)], capture_output=True, text=True, timeout=600)
        assert enrol.returncode == 0, enrol.stderr
    made = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_fixture_videos.py"), "--from-lfw",
                           str(lfw_dev), "--out", str(out), videos, "--known", *KNOWN],
                          capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    return VideoManifest.read(out / "hard.json") if videos == "--hard" else identity_manifests(out)[0]


def identity_manifests(out: Path) -> list[VideoManifest]:
    """The identity cases made into `out` (scripts/make_fixture_videos.py --identity), by name."""
    return [VideoManifest.read(path) for path in sorted(out.glob("identity-*.json"))]


def run_doorway(device_file: Path, manifest: VideoManifest, work: Path,
                motion: MotionPolicy, upload: UploadPolicy = UploadPolicy(),
                realtime: bool = False, track: bool = True,
                report_hold_s: float = DEFAULT_HOLD_S, keep_done: bool = False
                ) -> tuple[list[AnyDeviceEvent], list[dict]]:
    """Replay the doorway through the device app with actions and visit reports; (events, alerts received).

    `realtime` paces the video as a camera would give it: each clip's answer is back before the next clip is
    looked at, so which still clips a visit reaches does not depend on how far the replay ran ahead of its answers
    (what the cost bench needs to compare two runs); otherwise frames come as fast as they decode (a backlog,
    answered newest first: then no clip has a reference from before it, and the tracking skip tracks nothing).
    `track`: the tracking skip of decided visits (pi_app.visits.tracking_skip); `report_hold_s`: how long a visit's
    report waits for its final one (pi_app.transport.visit_reporter; each report sent is a `visit_reported` event).
    `keep_done`: finished clip folders stay in `work/spool` (their `frame.jpg` is the frame that was sent)."""
    with scripted_server([(200, {"ok": True})]) as receiver:
        rules = parse_actions_config(RULES.format(url=f"http://127.0.0.1:{receiver.server_address[1]}/hook"))
        connection = connect(device_file=device_file)
        config = DeviceConfig(device_id=connection.device_id, spool_dir=work / "spool", events_path=work / "events.jsonl",
                              drain_timeout_s=180.0, stale_after_s=600.0, stream_clock=True, visits=rules.visits,
                              motion=motion, upload=upload, tracking=TrackingPolicy(enabled=track),
                              keep_done=keep_done)
        relay = EventRelay()
        reporter = VisitReporter(work / "visits", connection.report_visit,
                                 bundle_of=upload.bundle_of(connection.device_id), hold_s=report_hold_s,
                                 publish=relay.put).start()
        try:
            with DeviceActions(rules, device_id=connection.device_id, outbox_dir=work / "alerts",
                               clip_links=connection.clip_links, publish=relay.put) as actions:
                app = DeviceApp(config, VideoFileCamera(manifest.video, realtime=realtime), connection.recognizer,
                                connection.uploader, sinks=[reporter], visit_feeder=actions.sink,
                                relay=relay, alerted=actions.sink.alerted.__contains__)
                actions.sink.alerted.listen(app.upload_alone)  # an alert's clip goes alone at once
                summary = app.run()
                assert actions.dispatcher is not None and actions.dispatcher.wait_idle(60)
            reporter.close(flush_timeout_s=60)
            rejected = sorted(p.name for p in (work / "visits" / "rejected").glob("*.json"))
            assert not reporter.pending() and not rejected, (reporter.pending(), rejected)
        finally:
            connection.close()
        assert summary["pending"] == 0, summary
        return read_events(work / "events.jsonl"), [json.loads(r["body"]) for r in receiver.requests]


