"""Collect face photos of one person from the camera into the seed's training layout:
OUT/{training,val}/First_Last/First_Last_0001.jpg, about 80 % training and 20 % val."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from pi_app.camera.base import Frame
from pi_app.recording.image_encoding import encode_jpeg, fit_within

TRAINING, VAL = "training", "val"
DEFAULT_VAL_FRACTION = 0.2
_NUMBERED = re.compile(r"_(\d+)\.jpg$")


class FaceDetector(Protocol):
    """What the collector needs of pi_app.tools.hog_face_finder.HogFaceFinder."""

    def detect(self, rgb: np.ndarray) -> list: ...


def is_val(index: int, val_fraction: float = DEFAULT_VAL_FRACTION) -> bool:
    """Whether the `index`-th kept photo (0-based) goes to val: after n photos round(n * fraction) are val."""
    def rounded(n: int) -> int:
        return math.floor(n * val_fraction + 0.5)
    return rounded(index + 1) > rounded(index)


@dataclass
class CollectResult:
    """What a collection run kept and passed over."""

    kept: list[Path] = field(default_factory=list)
    frames_examined: int = 0
    no_face: int = 0
    several_faces: int = 0

    def count(self, split: str) -> int:
        """Photos kept in `split`."""
        return sum(1 for p in self.kept if p.parent.parent.name == split)


class FaceCollector:
    """Keeps frames that show exactly one face, at least `min_gap_s` of camera time apart, until `count` are kept."""

    def __init__(self, out_dir: Path, name: str, count: int, detector: FaceDetector, *, min_gap_s: float = 0.5,
                 val_fraction: float = DEFAULT_VAL_FRACTION, max_side: int = 640, quality: int = 95) -> None:
        self.folders = {split: Path(out_dir) / split / name for split in (TRAINING, VAL)}
        self.name = name
        self.count = count
        self.detector = detector
        self.min_gap_s = min_gap_s  # consecutive frames are near-duplicates: spacing gives the model variety
        self.val_fraction = val_fraction
        self.max_side = max_side
        self.quality = quality
        self.result = CollectResult()
        self._last_kept_t: float | None = None
        self._next_number = self._first_free_number()

    @property
    def done(self) -> bool:
        """True once `count` photos are kept."""
        return len(self.result.kept) >= self.count

    def offer(self, frame: Frame) -> Path | None:
        """Consider one frame; returns where it was saved, or None if it was passed over."""
        if self.done or (self._last_kept_t is not None and frame.t - self._last_kept_t < self.min_gap_s):
            return None
        self.result.frames_examined += 1
        rgb = fit_within(frame.rgb, self.max_side)
        faces = self.detector.detect(rgb)
        if len(faces) != 1:  # none, or several: the label would be wrong for some of them
            if faces:
                self.result.several_faces += 1
            else:
                self.result.no_face += 1
            return None
        split = VAL if is_val(len(self.result.kept), self.val_fraction) else TRAINING
        folder = self.folders[split]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}_{self._next_number:04d}.jpg"
        path.write_bytes(encode_jpeg(rgb, self.max_side, self.quality))
        self._next_number += 1
        self._last_kept_t = frame.t
        self.result.kept.append(path)
        return path

    def _first_free_number(self) -> int:
        # Numbers continue after earlier sessions' photos, so a second session adds instead of overwriting.
        numbers = [int(m.group(1)) for folder in self.folders.values() if folder.is_dir()
                   for p in folder.iterdir() if (m := _NUMBERED.search(p.name))]
        return max(numbers, default=0) + 1
