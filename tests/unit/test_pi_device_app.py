"""The whole device app with a recorded-video camera and fake (or loopback) services: every clip is
recognised and uploaded, a down backend leaves work in the spool, the next start finishes it."""
from __future__ import annotations

import io
import json
import logging
import os
import signal
import threading
import zipfile
from pathlib import Path

import pytest

from facegate_contract import parse_bundle_key
from pi_app.transport.backoff import Backoff
from pi_app.camera import VideoFileCamera
from pi_app.runtime.device_app import DeviceApp, DeviceConfig
from pi_app.runtime.events import read_events
from pi_app.runtime.logging_setup import configure_device_logging
from pi_app.transport.api_session import ApiSession
from pi_app.transport.recognize_client import RecognizeClient
from pi_app.runtime.shutdown import stop_on_signals
from pi_app.recording.spool import Spool
from pi_app.recording.spool_budget import SpoolLimits
from pi_app.recording.upload_policy import UploadPolicy
from pi_app.visits.tracking_skip import TrackingPolicy
from tests.unit.pi_support import (OK_BODY, FakeRecognizer, FakeUploader, moving_face_video, scripted_server,
                                   stored_clip_keys)

QUICK_BACKOFF = Backoff(base_s=0.01, max_s=0.05, jitter=0.0)


def _config(tmp_path: Path, **overrides) -> DeviceConfig:
    settings = dict(device_id="door-1", spool_dir=tmp_path / "spool", events_path=tmp_path / "events.jsonl",
                    fourcc="mp4v", drain_timeout_s=30.0, recognize_backoff=QUICK_BACKOFF, upload_backoff=QUICK_BACKOFF,
                    spool_limits=SpoolLimits(min_free_bytes=0),  # the test machine's free space must not matter
                    tracking=TrackingPolicy(enabled=False))  # every clip recognised: these tests check each answer
    return DeviceConfig(**{**settings, **overrides})


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return moving_face_video(tmp_path_factory.mktemp("video") / "door.mp4", seconds=1.5, fps=20)


def test_every_clip_is_recognised_and_uploaded_with_its_result(tmp_path: Path, video: Path) -> None:
    recognizer, uploader = FakeRecognizer(), FakeUploader()

    summary = DeviceApp(_config(tmp_path, upload=UploadPolicy(mode="all")), VideoFileCamera(video, realtime=False),
                        recognizer, uploader).run()

    assert (summary["clips"], summary["recognised"], summary["uploaded"], summary["pending"]) == (3, 3, 3, 0)
    assert summary["drained"] is True and summary["fourcc"] == "mp4v"
    assert summary["latency_ms"] == {"p50": 42.0, "p95": 42.0, "n": 3}
    assert sorted(recognizer.keys) == sorted(uploader.objects)  # each frame was sent with its clip's key
    for key, (body, metadata) in uploader.objects.items():
        assert key.startswith("clips/door-1/") and body[4:8] == b"ftyp"  # a real MP4
        assert metadata["codec"] == "mp4v" and 0 <= int(metadata["frame-index"]) < 10
        assert {k: v for k, v in metadata.items() if k not in ("codec", "frame-index")} == {
                            "device": "door-1", "recognition": "recognised", "frames": "10",
                            "names": "Eileen_Collins", "confidence": "0.970", "model-version": "m-test"}
    kinds = [e.name for e in read_events(tmp_path / "events.jsonl")]
    assert (kinds.count("clip_recorded"), kinds.count("recognition"), kinds.count("upload")) == (3, 3, 3)
    assert kinds[-1] == "summary"
    assert Spool(tmp_path / "spool").clips() == []  # finished clips leave the spool


def test_a_visits_clips_go_up_in_one_bundle_each_with_its_result(tmp_path: Path, video: Path) -> None:
    recognizer, uploader = FakeRecognizer(), FakeUploader()

    summary = DeviceApp(_config(tmp_path), VideoFileCamera(video, realtime=False), recognizer, uploader).run()

    assert (summary["clips"], summary["uploaded"], summary["bundled"], summary["bundles"]) == (3, 0, 3, 1)
    assert summary["pending"] == 0 and summary["pending_uploads"] == 0
    ((key, (body, metadata)),) = uploader.objects.items()  # one object: the visit's bundle
    assert parse_bundle_key(key) is not None and key.startswith("clips/door-1/") and metadata["clips"] == "3"
    assert stored_clip_keys(uploader) == sorted(recognizer.keys)
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        for info in bundle.infolist():
            assert info.compress_type == zipfile.ZIP_STORED and bundle.read(info)[4:8] == b"ftyp"  # a real MP4
            assert json.loads(info.comment)["names"] == "Eileen_Collins"
    kinds = [e.name for e in read_events(tmp_path / "events.jsonl")]
    assert (kinds.count("upload"), kinds.count("bundle_uploaded")) == (0, 1)
    assert Spool(tmp_path / "spool").clips() == []


def test_a_down_backend_leaves_work_in_the_spool_and_the_next_start_finishes_it(tmp_path: Path, video: Path) -> None:
    down = FakeRecognizer(up=False), FakeUploader(up=False)
    first = DeviceApp(_config(tmp_path, drain_timeout_s=0.2), VideoFileCamera(video, realtime=False), *down).run()

    assert (first["clips"], first["uploaded"], first["pending"], first["drained"]) == (3, 0, 3, False)
    assert first["failures"] >= 1
    assert len(Spool(tmp_path / "spool").unfinished()) == 3

    recognizer, uploader = FakeRecognizer(), FakeUploader()
    second = DeviceApp(_config(tmp_path), VideoFileCamera(video, realtime=False), recognizer, uploader).run()

    assert (second["resumed"], second["clips"], second["uploaded"] + second["bundled"], second["pending"]) == (3, 3, 6, 0)
    assert len(stored_clip_keys(uploader)) == 6 and len(set(recognizer.keys)) == 6


def test_duration_stops_after_that_much_video(tmp_path: Path, video: Path) -> None:
    summary = DeviceApp(_config(tmp_path, duration_s=1.0), VideoFileCamera(video, realtime=False),
                        FakeRecognizer(), FakeUploader()).run()

    assert summary["clips"] == 2


def test_stop_from_another_thread_ends_a_looping_run_cleanly(tmp_path: Path, video: Path) -> None:
    recorded = threading.Event()

    class StopAfterTwoClips:
        count = 0

        def handle(self, event: dict) -> None:
            if event.name == "clip_recorded":
                self.count += 1
                if self.count == 2:
                    recorded.set()

    app = DeviceApp(_config(tmp_path), VideoFileCamera(video, realtime=False, loop=True), FakeRecognizer(),
                    FakeUploader(), sinks=[StopAfterTwoClips()])
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(app.run()))
    runner.start()
    assert recorded.wait(timeout=60)
    app.stop()
    runner.join(timeout=60)

    assert not runner.is_alive()
    assert result["clips"] >= 2 and result["pending"] == 0 and result["bundled"] == result["clips"]


def test_sigterm_asks_for_a_stop_and_the_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    stops: list[bool] = []
    with stop_on_signals(lambda: stops.append(True)):
        os.kill(os.getpid(), signal.SIGTERM)

    assert stops == [True]
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_api_key_never_reaches_logs_or_events(tmp_path: Path, video: Path) -> None:
    secret = "sekrit-api-key-123"
    log_file = tmp_path / "device.log"
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_device_logging(log_file, "DEBUG")
    try:
        with scripted_server([(503, {"error": "busy"}), (200, OK_BODY)]) as server:
            client = RecognizeClient(server.url, ApiSession(secret))
            summary = DeviceApp(_config(tmp_path), VideoFileCamera(video, realtime=False), client, FakeUploader()).run()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])

    assert summary["recognised"] == 3
    assert all(r["headers"]["x-api-key"] == secret for r in server.requests)
    logs = log_file.read_text()
    assert [json.loads(line)["msg"] for line in logs.splitlines()][0] == "device app starting"  # JSON lines
    assert secret not in logs
    assert secret not in (tmp_path / "events.jsonl").read_text()


def test_with_tracking_the_decided_visit_s_same_face_is_not_sent_and_still_uploaded(tmp_path: Path) -> None:
    video = moving_face_video(tmp_path / "door.mp4", seconds=3.0, fps=20)  # the face drifts 10 px per clip
    recognizer, uploader = FakeRecognizer(faces=[{"name": "Eileen_Collins", "confidence": 0.97,
                                                  "box": {"x1": 150.0, "y1": 100.0, "x2": 290.0, "y2": 240.0}}]), \
        FakeUploader()

    summary = DeviceApp(_config(tmp_path, tracking=TrackingPolicy(), workers=1), VideoFileCamera(video, realtime=False),
                        recognizer, uploader).run()

    assert summary["clips"] == 6 and summary["pending"] == 0 and len(stored_clip_keys(uploader)) == 6  # all in S3
    assert summary["tracked"] >= 2 and summary["recognised"] + summary["tracked"] == 6
    assert len(recognizer.calls) == summary["recognised"]
    tracked = [e for e in read_events(tmp_path / "events.jsonl") if e.name == "recognition" and e.status == "tracked"]
    assert tracked and all(e.tracked_from and e.names == ["Eileen_Collins"] for e in tracked)
