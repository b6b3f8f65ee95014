"""The recorder cuts a known video into clips of exactly the configured length and picks the sharpest frame."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pi_app.camera import Frame, VideoFileCamera
from pi_app.recording.clip_encoder import PREFERRED_FOURCCS, available_fourcc
from pi_app.recording.clip_recorder import ClipRecorder
from pi_app.recording.clip_state import ClipState
from pi_app.recording.frame_choice import SharpestFrame, sharpness
from pi_app.recording.spool import CLIP_FILE, FRAME_FILE, Spool
from tests.unit.pi_support import FakeClock, count_frames, face_frame, moving_face_video, write_video


def _record(video: Path, spool_dir: Path, clip_seconds: float = 0.5, max_side: int = 640) -> tuple[Spool, list[ClipState]]:
    spool = Spool(spool_dir)
    camera = VideoFileCamera(video, realtime=False)
    clock = FakeClock()
    recorder = ClipRecorder(spool, "dev-1", camera.fps, clip_seconds, fourcc="mp4v", max_side=max_side, wall_clock=clock)
    clips = []
    for frame in camera.frames():
        clock.advance(1 / camera.fps)
        clips.append(recorder.add(frame))
    clips.append(recorder.close())
    return spool, [c for c in clips if c is not None]


def test_three_seconds_at_20_fps_make_six_clips_of_ten_frames(tmp_path: Path) -> None:
    spool, clips = _record(moving_face_video(tmp_path / "door.mp4", seconds=3.0, fps=20), tmp_path / "spool")

    assert [c.frames for c in clips] == [10] * 6
    assert [c.duration_s for c in clips] == [0.5] * 6
    assert spool.clips() == [c.clip for c in clips]  # committed, in recording order
    for clip in clips:
        assert count_frames(spool.folder(clip.clip) / CLIP_FILE) == 10  # the file holds what the state says


def test_clip_length_is_configurable_and_a_short_tail_is_kept(tmp_path: Path) -> None:
    video = moving_face_video(tmp_path / "door.mp4", seconds=2.2, fps=20)  # 44 frames
    _, clips = _record(video, tmp_path / "spool", clip_seconds=1.0)

    assert [c.frames for c in clips] == [20, 20, 4]


def test_each_clip_has_its_own_id_key_and_a_jpeg_frame(tmp_path: Path) -> None:
    spool, clips = _record(moving_face_video(tmp_path / "door.mp4", seconds=1.0, fps=20), tmp_path / "spool")

    assert len({c.clip for c in clips}) == len(clips) == 2
    for clip in clips:
        assert clip.key == f"clips/dev-1/{clip.clip[0:4]}/{clip.clip[4:6]}/{clip.clip[6:8]}/{clip.clip}.mp4"
        jpeg = cv2.imdecode(np.frombuffer((spool.folder(clip.clip) / FRAME_FILE).read_bytes(), np.uint8), cv2.IMREAD_COLOR)
        assert jpeg.shape == (480, 640, 3)  # 640 px already fits: kept at full size


def test_the_recognition_frame_is_shrunk_to_the_longest_side_limit(tmp_path: Path) -> None:
    spool, clips = _record(moving_face_video(tmp_path / "door.mp4", seconds=0.5), tmp_path / "spool", max_side=320)

    jpeg = cv2.imdecode(np.frombuffer((spool.folder(clips[0].clip) / FRAME_FILE).read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert jpeg.shape == (240, 320, 3)


def test_the_sharpest_frame_is_the_one_sent(tmp_path: Path) -> None:
    sharp_index = 6
    frames = [face_frame() if i == sharp_index else cv2.GaussianBlur(face_frame(), (15, 15), 5) for i in range(10)]
    _, clips = _record(write_video(tmp_path / "blurry.mp4", frames, 20), tmp_path / "spool")

    assert len(clips) == 1
    assert clips[0].frame_index == sharp_index


def test_sharpest_frame_keeps_the_crisp_one_among_blurred_frames() -> None:
    chooser = SharpestFrame()
    crisp = face_frame()
    for i in range(8):
        chooser.offer(crisp if i == 3 else cv2.GaussianBlur(crisp, (9, 9), 3))

    assert chooser.index == 3
    assert np.array_equal(chooser.frame, crisp)


def test_a_resolution_change_starts_a_new_clip(tmp_path: Path) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    write_video(folder / "a.mp4", [face_frame(i) for i in range(4)], 20)
    write_video(folder / "b.mp4", [cv2.resize(face_frame(i), (320, 240)) for i in range(4)], 20)
    _, clips = _record(folder, tmp_path / "spool")

    assert [c.frames for c in clips] == [4, 4]  # one 0.5 s window, split where the size changed


def test_a_partial_clip_left_by_a_crash_is_discarded_on_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    recorder = ClipRecorder(spool, "dev-1", 20, 0.5, fourcc="mp4v", wall_clock=FakeClock())
    recorder.add(Frame(face_frame(), 0.0))  # recording, then the power goes: close() never runs

    reopened = Spool(tmp_path / "spool")
    assert len(reopened.discard_incomplete()) == 1
    assert reopened.clips() == [] and reopened.unfinished() == []
    assert not any((tmp_path / "spool" / ".incoming").iterdir())


def test_the_encoder_falls_back_to_the_first_fourcc_that_works() -> None:
    assert available_fourcc(("zzzz", "mp4v")) == "mp4v"
    assert available_fourcc() in PREFERRED_FOURCCS


def test_non_positive_clip_length_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ClipRecorder(Spool(tmp_path), "dev-1", 20, 0.0, fourcc="mp4v")


def test_sharpness_is_the_variance_of_the_laplacian() -> None:
    rgb = face_frame()
    reference = cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()

    assert sharpness(rgb) == pytest.approx(reference, rel=1e-9)
    assert sharpness(cv2.GaussianBlur(rgb, (9, 9), 3)) < reference / 4


@pytest.mark.parametrize("stream_clock, spacing", [(False, 0.0), (True, 0.5)])
def test_a_fast_replay_stamps_clips_with_the_videos_time_when_asked(tmp_path: Path, stream_clock: bool,
                                                                     spacing: float) -> None:
    video = moving_face_video(tmp_path / "door.mp4", seconds=2.0, fps=20)
    camera = VideoFileCamera(video, realtime=False)
    clock = FakeClock()  # never advances: the replay takes no wall time at all
    recorder = ClipRecorder(Spool(tmp_path / "spool"), "dev-1", camera.fps, 0.5, fourcc="mp4v", wall_clock=clock,
                            stream_clock=stream_clock)
    clips = [c for c in [*(recorder.add(f) for f in camera.frames()), recorder.close()] if c is not None]

    starts = [c.started_at for c in clips]
    assert [round(b - a, 3) for a, b in zip(starts, starts[1:])] == [spacing] * 3
    assert all(round(c.recorded_at - c.started_at, 3) == (0.5 if stream_clock else 0.0) for c in clips)
