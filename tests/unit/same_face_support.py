"""Synthetic doorway frames for the tracking-skip tests: a fixture face on a fixed textured background."""
from __future__ import annotations

import cv2
import numpy as np

from pi_app.visits.evidence import Box
from tests.conftest import FIXTURE_IMAGES

BOX = Box(270, 150, 360, 240)  # where the face is pasted (90 px, a near doorway face at 640 px)


def _face(name: str, side: int = 90) -> np.ndarray:
    """The middle of a fixture photo (the face), `side` pixels square."""
    rgb = cv2.cvtColor(cv2.imread(str(FIXTURE_IMAGES / name)), cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    middle = rgb[h // 2 - int(h * 0.3):h // 2 + int(h * 0.3), w // 2 - int(w * 0.3):w // 2 + int(w * 0.3)]
    return cv2.resize(middle, (side, side), interpolation=cv2.INTER_AREA)


FACE = _face("probe_eileen_collins.jpg")
OTHER = _face("Eileen_Collins/enrol_4.jpg")  # another photo: other pixels at the same place
_BACKGROUND = cv2.GaussianBlur(np.random.default_rng(3).integers(60, 200, (480, 640, 3)).astype(np.uint8), (0, 0), 6)


def frame(face: np.ndarray | None = FACE, dx: int = 0, dy: int = 0, second: np.ndarray | None = None,
          gain: float = 1.0, blur: float = 0.0) -> np.ndarray:
    """A 640x480 doorway: `face` at BOX moved by (dx, dy), `second` face far to the left, light `gain`, `blur`."""
    rgb = _BACKGROUND.copy()
    if face is not None:
        y, x = int(BOX.y1) + dy, int(BOX.x1) + dx
        rgb[y:y + face.shape[0], x:x + face.shape[1]] = face
    if second is not None:
        rgb[300:390, 20:110] = second
    rgb = np.clip(rgb.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(rgb, (0, 0), blur) if blur else rgb
