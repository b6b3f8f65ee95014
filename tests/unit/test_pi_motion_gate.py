"""The motion gate on synthetic frames: static noisy, JPEG-damaged or re-lit frames are still; a face stepping
in or moving a few pixels is motion; the recorder stores each clip's score; `should_recognise` lets a
still clip through only while a visit is open; a skipped still clip stays uploaded unless told not to."""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from pi_app.camera import Frame
from pi_app.recording.clip_recorder import ClipRecorder
from pi_app.recording.clip_state import NOT_UPLOADED, PENDING, SKIPPED_STILL, ClipState
from pi_app.recording.motion_gate import MotionMeter, MotionPolicy, mark_still, motion_score, should_recognise, small_grey
from pi_app.recording.spool import Spool
from pi_app.runtime.clip_worker import ClipWorker
from pi_app.visits import VisitTracker
from tests.unit.pi_support import FakeClock, FakeRecognizer, FakeUploader, add_clip, face_frame

RNG = np.random.default_rng(7)
SCENE = cv2.GaussianBlur(RNG.integers(30, 220, (480, 640, 3), dtype=np.uint8), (0, 0), 3)
POLICY = MotionPolicy()


def camera(rgb: np.ndarray, noise: float = 8.0, quality: int = 35) -> np.ndarray:
    """What a cheap camera makes of a scene: sensor noise, then JPEG artefacts."""
    noisy = np.clip(rgb.astype(np.float32) + RNG.normal(0, noise, rgb.shape), 0, 255).astype(np.uint8)
    _, jpeg = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def with_face(x: int, side: int = 48, gain: float = 1.0) -> np.ndarray:
    """The scene with a small face at (x, 200)."""
    scene = SCENE.copy()
    scene[200:200 + side, x:x + side] = cv2.resize(face_frame()[140:340, 220:420], (side, side))
    return (scene * gain).astype(np.uint8)


def score(a: np.ndarray, b: np.ndarray) -> float:
    return motion_score(small_grey(a), small_grey(b))


@pytest.mark.parametrize("noise, quality", [(8, 35), (20, 35), (30, 20)])
def test_a_static_noisy_scene_is_still(noise: float, quality: int) -> None:
    scores = [score(camera(SCENE, noise, quality), camera(SCENE, noise, quality)) for _ in range(20)]

    assert max(scores) < POLICY.threshold / 4


def test_the_light_changing_is_not_motion() -> None:
    assert score(camera(SCENE), camera((SCENE * 0.7).astype(np.uint8))) < POLICY.threshold / 4


@pytest.mark.parametrize("before, after", [(None, 300), (300, 306), (300, 330)], ids=["steps-in", "6px", "30px"])
def test_a_small_face_appearing_or_moving_is_motion(before: int | None, after: int) -> None:
    first = camera(SCENE if before is None else with_face(before))

    assert score(first, camera(with_face(after))) > 2 * POLICY.threshold


def test_a_dim_face_stepping_in_is_motion() -> None:
    assert score(camera((SCENE * 0.45).astype(np.uint8)), camera(with_face(300, gain=0.45))) > 2 * POLICY.threshold


def test_the_meter_compares_frames_a_quarter_second_apart_and_reports_each_clips_peak() -> None:
    meter = MotionMeter(lag_s=0.25)
    for n in range(10):  # 20 fps: still
        meter.offer(camera(SCENE), n * 0.05)
    assert meter.take() < POLICY.threshold

    for n in range(10, 20):  # a face creeping 1 px per frame: ~5 px against the frame 0.25 s before
        meter.offer(camera(with_face(200 + n)), n * 0.05)
    assert meter.take() > POLICY.threshold
    assert meter.take() == 0.0  # reset for the next clip


def test_the_meter_is_cheap() -> None:
    meter, frame = MotionMeter(), camera(SCENE)
    started = time.perf_counter()
    for n in range(100):
        meter.offer(frame, n * 0.05)

    assert (time.perf_counter() - started) / 100 < 0.02  # ~1 ms here; a Pi has 50 ms per frame at 20 fps


def test_the_recorder_stores_each_clips_motion(tmp_path: Path) -> None:
    recorder = ClipRecorder(Spool(tmp_path), "dev-1", 20, 0.5, fourcc="mp4v", wall_clock=FakeClock())
    frames = [camera(SCENE) for _ in range(20)] + [camera(with_face(100 + 8 * n)) for n in range(10)]
    clips = [recorder.add(Frame(rgb, n / 20)) for n, rgb in enumerate(frames)] + [recorder.close()]
    still_1, still_2, moving = [c for c in clips if c is not None]

    assert still_1.motion is not None and still_1.motion < POLICY.threshold and still_2.motion < POLICY.threshold
    assert moving.motion > POLICY.threshold
    assert Spool(tmp_path).load(moving.clip).motion == moving.motion  # in state.json


def _state(motion: float | None) -> ClipState:
    return ClipState(clip="c", device_id="d", key="k", started_at=0, recorded_at=0.5, frames=10, duration_s=0.5,
                     fourcc="mp4v", frame_index=0, frame_sharpness=1.0, motion=motion)


@pytest.mark.parametrize("motion, visit_open, policy, expected", [
    (0.0, False, POLICY, False),
    (0.01, False, POLICY, True),
    (0.0, True, POLICY, True),  # someone standing still at the door
    (None, False, POLICY, True),  # recorded before the gate: no score
    (0.0, False, MotionPolicy(enabled=False), True),
    (0.004, False, MotionPolicy(threshold=0.005), False),
])
def test_should_recognise(motion: float | None, visit_open: bool, policy: MotionPolicy, expected: bool) -> None:
    assert should_recognise(_state(motion), visit_open, policy) is expected


@pytest.mark.parametrize("motion, policy, expected", [
    (0.0, POLICY, False),  # nothing moved since a frame with nobody: still nobody, even in an open visit
    (0.01, POLICY, True),  # something moved: someone may be back
    (None, POLICY, True),  # no score: cannot tell
    (0.0, MotionPolicy(still_after_empty=False), True),  # the old rule: every clip of an open visit
])
def test_a_still_clip_after_an_empty_answer_is_not_sent_even_in_a_visit(motion: float | None, policy: MotionPolicy,
                                                                         expected: bool) -> None:
    assert should_recognise(_state(motion), True, policy, after_empty=True) is expected
    assert should_recognise(_state(motion), True, policy, after_empty=False) is True


def test_a_still_clip_is_skipped_but_uploaded_unless_the_policy_says_not_to(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    kept, dropped = add_clip(spool, 0, 100.0), add_clip(spool, 1, 100.5)

    mark_still(kept, MotionPolicy())
    mark_still(dropped, MotionPolicy(upload_still=False))

    assert (kept.recognition.status, kept.recognition.final, kept.upload.status, kept.finished) == (
        SKIPPED_STILL, True, PENDING, False)
    assert (dropped.upload.status, dropped.upload.final, dropped.finished) == (NOT_UPLOADED, True, True)


@pytest.mark.parametrize("still_after_empty, sent", [(True, 3), (False, 5)])
def test_a_visit_waiting_to_end_sends_no_still_clip_after_its_doorway_emptied(tmp_path: Path, still_after_empty: bool,
                                                                              sent: int) -> None:
    """A face opens a visit, the person leaves (motion, answered "no face"); the still clips of the empty doorway
    after it, while the visit waits for its end, are not sent (the real tracker tells the worker)."""
    tracker, spool, recognizer = VisitTracker(), Spool(tmp_path), FakeRecognizer()
    worker = ClipWorker(spool, recognizer, FakeUploader(), tracker.observe, clock=FakeClock(2_000_000_010.0),
                        motion=MotionPolicy(still_after_empty=still_after_empty), visit_open=tracker.is_open,
                        empty_before=tracker.empty_before)
    for seq, (motion, faces) in enumerate([(0.05, None), (0.0, None), (0.05, []), (0.0, []), (0.0, [])]):
        state = add_clip(spool, seq, 2_000_000_000.0 + 0.5 * seq)
        state.motion = motion
        spool.save(state)
        recognizer.faces = faces  # None: a face; []: nobody
        assert worker.process(state.clip) is None

    assert len(recognizer.calls) == sent
    assert tracker.is_open(2_000_000_001.0)  # the visit itself is unchanged: still open, waiting for its end
