"""The face finder `facegate collect` uses: dlib's HOG + linear SVM frontal face detector (it ships inside dlib, no
weights to fetch). dlib is the `collect` extra (`pip install 'facegate[device,collect]'`): the device app itself
never needs it, so it is imported only here."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FoundFace:
    """A face box in pixels (x1, y1, x2, y2) and the detector's score."""

    box: tuple[int, int, int, int]
    score: float

    @property
    def area(self) -> int:
        x1, y1, x2, y2 = self.box
        return max(0, x2 - x1) * max(0, y2 - y1)


class HogFaceFinder:
    """Every frontal face in an RGB frame, largest first."""

    def __init__(self, upsample: int = 1, min_score: float = -0.2) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise ImportError("facegate collect needs dlib: pip install 'facegate[device,collect]'") from exc
        self._detector = dlib.get_frontal_face_detector()
        self._upsample = upsample
        self._min_score = min_score

    def detect(self, rgb: np.ndarray) -> list[FoundFace]:
        """Faces with positive area, clipped to the frame."""
        rects, scores, _ = self._detector.run(rgb, self._upsample, self._min_score)
        height, width = rgb.shape[:2]
        found = []
        for rect, score in zip(rects, scores):
            box = (max(0, rect.left()), max(0, rect.top()), min(width, rect.right()), min(height, rect.bottom()))
            if box[2] > box[0] and box[3] > box[1]:
                found.append(FoundFace(box=box, score=float(score)))
        return sorted(found, key=lambda face: face.area, reverse=True)
