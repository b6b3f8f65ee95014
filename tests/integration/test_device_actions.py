"""Device actions against the local stack: a webhook receiver on loopback gets one alert per
stranger visit, each with a presigned clip URL that really fetches the clip from S3."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import requests

from pi_app.actions import DeviceActions, parse_actions_config
from pi_app.camera.video_file import VideoFileCamera
from pi_app.device_app import DeviceApp, DeviceConfig
from pi_app.event_relay import EventRelay
from pi_app.events import read_events
from pi_app.stack_connection import connect
from pi_app.video_manifest import VideoManifest
from facegate_contract import StackOutputs
from tests.unit.pi_support import scripted_server


def _stranger_visits(manifest: VideoManifest, cooldown_s: float) -> int:
    """Stranger segments separated by more than the cool-down are separate visits."""
    visits, last_end = 0, None
    for segment in manifest.segments:
        if "unknown" in segment.people:
            if last_end is None or segment.start - last_end > cooldown_s:
                visits += 1
            last_end = segment.end
    return visits


def test_one_alert_per_stranger_visit_with_a_working_clip_url(deployed: tuple[StackOutputs, Path],
                                                              lfw_video: VideoManifest, tmp_path: Path,
                                                              add_device) -> None:
    device = f"it-door-{uuid.uuid4().hex[:6]}"
    cooldown_s = 2.0
    expected = _stranger_visits(lfw_video, cooldown_s)
    assert expected == 2
    with scripted_server([(200, {"ok": True})]) as receiver:
        rules = parse_actions_config(f"""
[gpio]
backend = "fake"
[outputs.red_led]
pin = 27
[outputs.green_led]
pin = 17
[outputs.door_relay]
pin = 23
kind = "door"
[on.known]
cooldown_s = {cooldown_s}
signals = [{{ output = "green_led", seconds = 0.5 }}]
door = {{ output = "door_relay", seconds = 0.2 }}
[on.unknown]
cooldown_s = {cooldown_s}
signals = [{{ output = "red_led", seconds = 0.5 }}]
alert = true
[visits]
unknown_min_clips = 2  # each stranger of this video is on screen for three clips
[webhook]
url = "http://127.0.0.1:{receiver.server_address[1]}/hook"
backoff = {{ base_s = 0.2, max_s = 1, jitter = 0 }}
""")
        connection = connect(device_file=add_device(device))
        config = DeviceConfig(device_id=device, spool_dir=tmp_path / "spool", events_path=tmp_path / "events.jsonl",
                              drain_timeout_s=120.0, stale_after_s=600.0)
        try:
            relay = EventRelay()
            with DeviceActions(rules, device_id=device, outbox_dir=tmp_path / "alerts",
                               clip_links=connection.clip_links, publish=relay.put) as actions:
                summary = DeviceApp(config, VideoFileCamera(lfw_video.video, realtime=True), connection.recognizer,
                                    connection.uploader, visit_feeder=actions.sink, relay=relay).run()
                assert actions.dispatcher is not None and actions.dispatcher.wait_idle(30)
        finally:
            connection.close()
        alerts = [json.loads(r["body"]) for r in receiver.requests]

    assert summary["pending"] == 0
    assert len(alerts) == expected, alerts
    unknown_clips = {e["key"] for e in read_events(config.events_path)
                     if e.get("event") == "recognition" and e.get("status") == "unknown"}
    for alert in alerts:
        assert alert["name"] == "unknown" and alert["device_id"] == device
        assert alert["clip_key"] in unknown_clips
        deadline = time.time() + 30
        while True:  # the alert may go out before the clip's upload lands
            clip = requests.get(alert["clip_url"], timeout=30)
            if clip.status_code == 200 or time.time() > deadline:
                break
            time.sleep(1)
        assert clip.status_code == 200
        assert clip.content[4:8] == b"ftyp"  # an MP4 file
