"""Cameras: the recorded-video shim replays files at the right times; the Pi camera is wired as picamera2 wants."""
from __future__ import annotations

import re
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pi_app.camera import PiCamera2Camera, VideoFileCamera, parse_camera_spec
from tests.unit.pi_support import face_frame, write_video


class FakeMonotonic:
    """A monotonic clock that only moves when the camera sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_a_video_is_replayed_frame_by_frame_with_times_from_its_rate(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", [face_frame(i) for i in range(5)], fps=10)
    camera = VideoFileCamera(video, realtime=False)

    frames = list(camera.frames())

    assert camera.fps == 10
    assert [round(f.t, 3) for f in frames] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert frames[0].rgb.shape == (480, 640, 3)
    # RGB, not OpenCV's BGR: the grey background is grey either way, the photo's colours are not swapped.
    assert abs(int(frames[0].rgb[:, 100:420].mean()) - int(face_frame()[:, 100:420].mean())) < 3


def test_realtime_replay_waits_for_each_frame_due_time(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", [face_frame(i) for i in range(4)], fps=20)
    clock = FakeMonotonic()
    camera = VideoFileCamera(video, realtime=True, monotonic=clock, sleep=clock.sleep)

    times = [f.t for f in camera.frames()]

    assert len(times) == 4
    assert clock.sleeps == [0.05, 0.05, 0.05]  # the first frame is due at once
    assert clock.now == pytest.approx(100.15)


def test_fast_replay_never_sleeps(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", [face_frame(i) for i in range(4)], fps=20)
    clock = FakeMonotonic()

    assert len(list(VideoFileCamera(video, realtime=False, monotonic=clock, sleep=clock.sleep).frames())) == 4
    assert clock.sleeps == []


def test_a_folder_plays_its_videos_in_name_order_as_one_stream(tmp_path: Path) -> None:
    write_video(tmp_path / "b.mp4", [face_frame(i) for i in range(3)], fps=10)
    write_video(tmp_path / "a.mp4", [face_frame(i) for i in range(2)], fps=10)
    (tmp_path / "notes.txt").write_text("not a video")
    camera = VideoFileCamera(tmp_path, realtime=False)

    assert [p.name for p in camera.files] == ["a.mp4", "b.mp4"]
    assert [round(f.t, 3) for f in camera.frames()] == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_loop_replays_until_closed(tmp_path: Path) -> None:
    camera = VideoFileCamera(write_video(tmp_path / "v.mp4", [face_frame(i) for i in range(3)], fps=10),
                             realtime=False, loop=True)
    times = []
    for frame in camera.frames():
        times.append(round(frame.t, 3))
        if len(times) == 7:
            camera.close()

    assert times == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]  # time keeps running across loops


def test_missing_or_empty_video_sources_are_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        VideoFileCamera(tmp_path / "missing.mp4")
    with pytest.raises(FileNotFoundError):
        VideoFileCamera(tmp_path)  # a folder without videos
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError):
        VideoFileCamera(tmp_path / "broken.mp4")


@pytest.mark.parametrize("value, message", [
    ("webcam", "expected `picamera2` or `video:PATH`"),
    ("video:", "needs a path"),
    ("video:/no/such/file.mp4", "no video file or folder"),
])
def test_bad_camera_specs_say_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_camera_spec(value)


def test_good_camera_specs_parse(tmp_path: Path) -> None:
    assert parse_camera_spec("picamera2").kind == "picamera2"
    spec = parse_camera_spec(f"video:{tmp_path}")
    assert (spec.kind, spec.path) == ("video", tmp_path)


class FakeRequest:
    def __init__(self, n: int) -> None:
        self.n = n
        self.released = False

    def make_array(self, stream: str) -> np.ndarray:
        assert stream == "main"
        return np.full((480, 640, 3), self.n, np.uint8)

    def get_metadata(self) -> dict[str, Any]:
        return {"SensorTimestamp": 5_000_000_000 + self.n * 50_000_000}

    def release(self) -> None:
        self.released = True


class FakePicamera2:
    """Records how the camera was configured and hands out numbered requests."""

    def __init__(self) -> None:
        self.configured: dict[str, Any] = {}
        self.started = self.stopped = self.closed = False
        self.requests: list[FakeRequest] = []

    def create_video_configuration(self, main: dict[str, Any], controls: dict[str, Any]) -> dict[str, Any]:
        return {"main": main, "controls": controls}

    def configure(self, config: dict[str, Any]) -> None:
        self.configured = config

    def start(self) -> None:
        self.started = True

    def capture_request(self) -> FakeRequest:
        self.requests.append(FakeRequest(len(self.requests)))
        return self.requests[-1]

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.closed = True


def test_picamera2_is_configured_for_rgb_frames_and_released_on_close() -> None:
    device = FakePicamera2()
    camera = PiCamera2Camera(resolution=(640, 480), fps=15, picamera2_factory=lambda: device)
    frames = []
    for frame in camera.frames():
        frames.append(frame)
        if len(frames) == 3:
            camera.close()

    # libcamera's "BGR888" is R, G, B in memory: the RGB arrays the recorder expects.
    assert device.configured == {"main": {"size": (640, 480), "format": "BGR888"}, "controls": {"FrameRate": 15.0}}
    assert [f.t for f in frames] == [5.0, 5.05, 5.1]
    assert [int(f.rgb[0, 0, 0]) for f in frames] == [0, 1, 2]
    assert all(r.released for r in device.requests)
    assert device.started and device.stopped and device.closed


def test_picamera2_missing_is_a_clear_error_when_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # as on a machine without it: the import fails

    with pytest.raises(ImportError, match="apt install python3-picamera2"):
        PiCamera2Camera()


def test_loop_over_videos_that_do_not_decode_ends_instead_of_spinning(tmp_path: Path) -> None:
    write_video(tmp_path / "a.mp4", [face_frame()], fps=10)
    camera = VideoFileCamera(tmp_path, realtime=False, loop=True)
    (tmp_path / "a.mp4").write_bytes(b"corrupted after the camera opened")

    frames: list = []
    replay = threading.Thread(target=lambda: frames.extend(camera.frames()), daemon=True)
    replay.start()
    replay.join(timeout=30)
    camera.close()  # lets a spinning replay end, should the test fail

    assert not replay.is_alive() and frames == []
