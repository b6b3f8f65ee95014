"""The whole device app with actions: a recorded video, fake recognition, fake-rpi pins on the real
scheduler, and alerts POSTed to a webhook on 127.0.0.1 — one alert per stranger visit, the door opened
once for a known person allowed in, every pin off at the end."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from facegate_contract.device_events import ClipRecognition, DeviceEvent
from pi_app.actions import DeviceActions, parse_actions_config
from pi_app.actions.gpio_backend import fake_gpio
from pi_app.camera import VideoFileCamera
from pi_app.recording.upload_policy import UploadPolicy
from pi_app.runtime.device_app import DeviceApp
from tests.unit.pi_actions_support import BUZZER, GREEN, RED, RELAY, RULES, FakeLinks, eileen
from tests.unit.pi_support import FakeRecognizer, FakeUploader, moving_face_video, scripted_server, stored_clip_keys
from tests.unit.test_pi_device_app import _config


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return moving_face_video(tmp_path_factory.mktemp("video") / "door.mp4", seconds=1.5, fps=20)


Run = tuple[dict, list[tuple[int, int]], list[tuple[ClipRecognition, float]]]


def _run(tmp_path: Path, video: Path, recognizer: FakeRecognizer, url: str, monkeypatch: pytest.MonkeyPatch,
         upload: UploadPolicy = UploadPolicy()) -> Run:
    """Run the app with actions; returns the summary, the pin writes and the recognition events (with when they
    came, monotonic)."""
    gpio = fake_gpio()
    writes: list[tuple[int, int]] = []
    monkeypatch.setattr(gpio, "output", lambda pin, value: writes.append((pin, value)))
    recognitions: list[tuple[ClipRecognition, float]] = []

    class Recognitions:
        def handle(self, event: DeviceEvent) -> None:
            if isinstance(event, ClipRecognition):
                recognitions.append((event, time.monotonic()))

    uploader = FakeUploader()
    config = parse_actions_config(RULES.replace("http://127.0.0.1:9/hook", url))
    with DeviceActions(config, device_id="door-1", outbox_dir=tmp_path / "alerts", clip_links=FakeLinks(),
                       gpio=gpio) as actions:
        app = DeviceApp(_config(tmp_path, upload=upload), VideoFileCamera(video, realtime=False), recognizer,
                        uploader, sinks=[Recognitions(), actions.sink], alerted=actions.sink.alerted.__contains__)
        actions.sink.alerted.listen(app.upload_alone)
        summary = app.run()
        assert actions.dispatcher is not None and actions.dispatcher.wait_idle(10)
    summary["uploaded_keys"] = stored_clip_keys(uploader)  # alone or in a visit's bundle
    summary["alone_keys"] = sorted(k for k in uploader.objects if k.endswith(".mp4"))
    summary["bundle_keys"] = sorted(k for k in uploader.objects if k.endswith(".zip"))
    return summary, writes, recognitions


def test_a_stranger_visit_sends_one_alert_and_never_touches_the_relay(tmp_path: Path, video: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with scripted_server([(200, {})]) as server:
        summary, writes, recognitions = _run(tmp_path, video, FakeRecognizer(name="unknown"),
                                             f"http://127.0.0.1:{server.server_address[1]}/hook", monkeypatch)

    assert summary["unknown"] == 3  # three clips of one visit...
    (request,) = server.requests  # ...one alert
    alert = json.loads(request["body"])
    assert alert["name"] == "unknown" and alert["clip_key"] in summary["alone_keys"]  # needed now: never bundled
    assert alert["clip_key"] == next(e.key for e, _ in recognitions if e.clip == alert["clip"])
    assert RELAY not in {pin for pin, _ in writes}
    assert sorted(writes) == [(BUZZER, 0), (BUZZER, 1), (RED, 0), (RED, 1)]  # on once, off by the end
    first = min(at for _, at in recognitions)
    assert request["at"] - first < 2.0  # the alert went out while the clips were still being handled


def test_a_known_person_allowed_in_opens_the_door_once_and_sends_no_alert(tmp_path: Path, video: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with scripted_server([(200, {})]) as server:
        summary, writes, _ = _run(tmp_path, video, FakeRecognizer(faces=[eileen(allow_entry=True)]),
                                  f"http://127.0.0.1:{server.server_address[1]}/hook", monkeypatch)

    assert summary["recognised"] == 3
    assert server.requests == []
    assert writes.count((RELAY, 1)) == 1 and writes.count((GREEN, 1)) == 1
    assert sorted(writes) == [(GREEN, 0), (GREEN, 1), (RELAY, 0), (RELAY, 1)]  # the 2 s green pulse ended at exit


def test_a_no_face_alert_uploads_its_clip_while_the_rest_of_the_empty_doorway_stays_on_the_device(
        tmp_path: Path, video: Path) -> None:
    rules = RULES + '\n[on.no_face]\nalert = true\ncooldown_s = 3600\n'
    uploader = FakeUploader()
    with scripted_server([(200, {})]) as server:
        config = parse_actions_config(rules.replace("http://127.0.0.1:9/hook",
                                                    f"http://127.0.0.1:{server.server_address[1]}/hook"))
        with DeviceActions(config, device_id="door-1", outbox_dir=tmp_path / "alerts", clip_links=FakeLinks(),
                           gpio=fake_gpio()) as actions:
            app = DeviceApp(_config(tmp_path, workers=1), VideoFileCamera(video, realtime=False),
                            FakeRecognizer(faces=[]), uploader, sinks=[actions.sink],
                            alerted=actions.sink.alerted.__contains__)
            actions.sink.alerted.listen(app.upload_alone)
            summary = app.run()
            assert actions.dispatcher is not None and actions.dispatcher.wait_idle(10)

    (request,) = server.requests  # one alert: the cool-down holds the other clips back
    alert = json.loads(request["body"])
    assert sorted(uploader.objects) == [alert["clip_key"]]  # the alert's clip, and only it, went to S3
    assert (summary["uploaded"], summary["kept"], summary["pending_uploads"]) == (1, 2, 0)
    assert len(list((tmp_path / "spool" / ".kept").iterdir())) == 2


@pytest.mark.parametrize("upload", ["all", "visits"])
def test_the_upload_policy_changes_where_footage_goes_never_what_the_door_does(
        tmp_path: Path, video: Path, monkeypatch: pytest.MonkeyPatch, upload: str) -> None:
    with scripted_server([(200, {})]) as server:
        summary, writes, recognitions = _run(tmp_path, video, FakeRecognizer(name="unknown"),
                                             f"http://127.0.0.1:{server.server_address[1]}/hook", monkeypatch,
                                             UploadPolicy(mode=upload))  # type: ignore[arg-type]

    assert summary["unknown"] == 3 and len(server.requests) == 1  # one stranger visit, one alert, either way
    assert sorted(writes) == [(BUZZER, 0), (BUZZER, 1), (RED, 0), (RED, 1)]
    assert summary["uploaded_keys"] == sorted(e.key for e, _ in recognitions)  # every clip has the face
    alert_key = json.loads(server.requests[0]["body"])["clip_key"]
    if upload == "all":  # each clip alone, as before
        assert summary["alone_keys"] == summary["uploaded_keys"] and summary["bundle_keys"] == []
    else:  # the alert's clip alone at once; the visit's other clips in its one bundle
        assert summary["alone_keys"] == [alert_key] and len(summary["bundle_keys"]) == 1
