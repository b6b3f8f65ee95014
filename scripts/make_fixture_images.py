"""Make the project's own face fixtures from scikit-image's public-domain astronaut() photo.

NASA portrait of Eileen Collins (public domain). Writes enrolment variants, a held-out probe
and a frame with no face into fixtures/images/. Re-running gives the same files.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "images"
LABEL = "Eileen_Collins"


def _jpeg(path: Path, rgb: np.ndarray, quality: int = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])


def _adjust(rgb: np.ndarray, gain: float, bias: float) -> np.ndarray:
    return np.clip(rgb.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)


def _rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)


def main() -> None:
    photo = data.astronaut()  # 512x512 RGB, face roughly at x 150-300, y 30-220
    portrait = photo[0:320, 60:380]
    variants = {
        "enrol_1.jpg": portrait,
        "enrol_2.jpg": portrait[:, ::-1],
        "enrol_3.jpg": _adjust(_rotate(portrait, 6), 0.8, -10),
        "enrol_4.jpg": _adjust(cv2.resize(portrait, (240, 240)), 1.15, 12),
    }
    for name, image in variants.items():
        _jpeg(OUT / LABEL / name, np.ascontiguousarray(image))
    # Held out: another crop, scale, rotation and lighting than any enrolment image.
    probe = _adjust(_rotate(cv2.resize(photo[10:300, 90:360], (320, 344)), -5), 0.9, 20)
    _jpeg(OUT / "probe_eileen_collins.jpg", np.ascontiguousarray(probe))
    rng = np.random.default_rng(7)
    background = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (0, 0), 8)
    _jpeg(OUT / "no_face.jpg", background)
    print(f"wrote fixtures to {OUT}")


if __name__ == "__main__":
    main()
