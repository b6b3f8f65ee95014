"""Frames as JPEG: shrunk so the longest side fits a limit (never enlarged), encoded with OpenCV."""
from __future__ import annotations

import cv2
import numpy as np

DEFAULT_MAX_SIDE = 640  # HOG finds faces down to ~80 px: a 640 px doorway frame keeps them detectable
DEFAULT_QUALITY = 90


def fit_within(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """`rgb` scaled down so its longest side is at most `max_side`; smaller images are returned as they are."""
    height, width = rgb.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return rgb
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)  # INTER_AREA: least aliasing when shrinking


def encode_jpeg(rgb: np.ndarray, max_side: int = DEFAULT_MAX_SIDE, quality: int = DEFAULT_QUALITY) -> bytes:
    """JPEG bytes of an RGB frame, longest side at most `max_side`."""
    bgr = cv2.cvtColor(fit_within(rgb, max_side), cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


def decode_rgb(jpeg: bytes) -> np.ndarray | None:
    """An encoded frame (JPEG) as RGB; None when it cannot be decoded."""
    bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
