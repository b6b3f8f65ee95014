"""`collect` keeps frames with exactly one face, spaced out, into the seed's training/val layout (80/20)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pi_app.camera import Frame
from pi_app.tools.face_collector import FaceCollector, is_val
from tests.unit.pi_support import face_frame, moving_face_video, write_video


class CountingDetector:
    """Says each frame holds `faces` faces."""

    def __init__(self, faces: int = 1) -> None:
        self.faces = faces
        self.calls = 0

    def detect(self, rgb: np.ndarray) -> list:
        self.calls += 1
        return [object()] * self.faces


def _frames(n: int, step: float = 0.1) -> list[Frame]:
    return [Frame(face_frame(i), i * step) for i in range(n)]


def _names(paths: list[Path]) -> list[str]:
    return [f"{p.parent.parent.name}/{p.parent.name}/{p.name}" for p in paths]


@pytest.mark.parametrize("n, val", [(5, 1), (10, 2), (20, 4), (3, 1), (1, 0)])
def test_about_one_in_five_goes_to_val(n: int, val: int) -> None:
    assert sum(is_val(i) for i in range(n)) == val


def test_photos_go_into_the_seed_layout_with_an_80_20_split(tmp_path: Path) -> None:
    collector = FaceCollector(tmp_path, "Eileen_Collins", 5, CountingDetector(), min_gap_s=0)
    for frame in _frames(8):
        collector.offer(frame)

    assert collector.done
    assert _names(collector.result.kept) == [
        "training/Eileen_Collins/Eileen_Collins_0001.jpg", "training/Eileen_Collins/Eileen_Collins_0002.jpg",
        "val/Eileen_Collins/Eileen_Collins_0003.jpg", "training/Eileen_Collins/Eileen_Collins_0004.jpg",
        "training/Eileen_Collins/Eileen_Collins_0005.jpg"]
    assert all(p.read_bytes()[:2] == b"\xff\xd8" for p in collector.result.kept)  # JPEG


def test_kept_photos_are_spaced_out_in_video_time(tmp_path: Path) -> None:
    detector = CountingDetector()
    collector = FaceCollector(tmp_path, "Eileen_Collins", 10, detector, min_gap_s=0.5)
    for frame in _frames(11):  # t = 0.0 .. 1.0
        collector.offer(frame)

    assert len(collector.result.kept) == 3  # t = 0.0, 0.5, 1.0
    assert detector.calls == 3  # frames too close to the last kept one are not even examined


def test_frames_without_exactly_one_face_are_passed_over(tmp_path: Path) -> None:
    none, several = FaceCollector(tmp_path, "A_B", 3, CountingDetector(0)), FaceCollector(tmp_path, "A_B", 3, CountingDetector(2))
    for frame in _frames(4, step=1.0):
        none.offer(frame)
        several.offer(frame)

    assert (none.result.kept, none.result.no_face) == ([], 4)
    assert (several.result.kept, several.result.several_faces) == ([], 4)


def test_a_second_session_adds_photos_instead_of_overwriting(tmp_path: Path) -> None:
    for _ in range(2):
        collector = FaceCollector(tmp_path, "Eileen_Collins", 2, CountingDetector(), min_gap_s=0)
        for frame in _frames(2):
            collector.offer(frame)

    assert sorted(p.name for p in tmp_path.rglob("*.jpg")) == [f"Eileen_Collins_000{n}.jpg" for n in (1, 2, 3, 4)]


def test_the_real_detector_keeps_the_face_and_skips_the_empty_frame(tmp_path: Path) -> None:
    from pi_app.tools.hog_face_finder import HogFaceFinder

    collector = FaceCollector(tmp_path, "Eileen_Collins", 5, HogFaceFinder(), min_gap_s=0)
    frames = [Frame(face_frame(photo="no_face.jpg"), 0.0), Frame(face_frame(), 0.1), Frame(face_frame(8), 0.2)]
    for frame in frames:
        collector.offer(frame)

    assert len(collector.result.kept) == 2 and collector.result.no_face == 1


def test_collect_on_the_command_line_from_a_video(tmp_path: Path) -> None:
    video = write_video(tmp_path / "door.mp4", [face_frame(photo="no_face.jpg")] * 5, 10)
    moving_face_video(tmp_path / "door2.mp4", seconds=1.0, fps=10)
    video.rename(tmp_path / "door1.mp4")  # a folder: first no face at all, then the face

    result = subprocess.run([sys.executable, "-m", "facegate_cli", "collect", "--name", "Eileen_Collins", "--count", "3",
                             "--min-gap", "0.2", "--camera", f"video:{tmp_path}", "--fast", "--out", str(tmp_path / "data")],
                            capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "data" / "training" / "Eileen_Collins").glob("*.jpg"))) == 2
    assert len(list((tmp_path / "data" / "val" / "Eileen_Collins").glob("*.jpg"))) == 1
    assert "5 without a face" in " ".join(result.stderr.split())
