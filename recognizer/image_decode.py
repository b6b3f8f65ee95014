"""Decode an uploaded frame (PNG or JPEG) into an RGB array, refusing anything else clearly."""
from __future__ import annotations

import cv2
import numpy as np

MAX_PIXELS = 4096 * 4096  # larger frames are refused before decoding (decompression bombs)
MIN_SIDE = 20

_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


class ImageError(ValueError):
    """The body is not a usable image. `kind` names the problem for the API's error field."""

    def __init__(self, kind: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


def sniff_media_type(data: bytes) -> str | None:
    """The media type from the file signature, or None when it is neither PNG nor JPEG."""
    for signature, media_type in _SIGNATURES.items():
        if data.startswith(signature):
            return media_type
    return None


def _declared_size(data: bytes, media_type: str) -> tuple[int, int] | None:
    """Width and height from the header, read without decoding pixels."""
    if media_type == "image/png" and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if media_type == "image/jpeg":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            length = int.from_bytes(data[i + 2:i + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
            i += 2 + length
    return None


def decode_image(data: bytes) -> np.ndarray:
    """Return an HxWx3 uint8 RGB array, or raise ImageError naming what is wrong."""
    if not data:
        raise ImageError("empty_body", "the request body is empty: send a PNG or JPEG frame")
    media_type = sniff_media_type(data)
    if media_type is None:
        raise ImageError("unsupported_media_type", "the body is not a PNG or JPEG image", status=415)
    size = _declared_size(data, media_type)
    if size is not None:
        width, height = size
        if width * height > MAX_PIXELS:
            raise ImageError("image_too_large", f"{width}x{height} exceeds the {MAX_PIXELS} pixel limit", status=413)
    array = np.frombuffer(data, dtype=np.uint8)
    bgr = cv2.imdecode(array, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageError("invalid_image", f"the {media_type} data is corrupt or truncated")
    if _looks_truncated(data, media_type):
        raise ImageError("invalid_image", f"the {media_type} data is truncated")
    height, width = bgr.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise ImageError("image_too_small", f"{width}x{height} is too small to hold a face (min side {MIN_SIDE})")
    if height * width > MAX_PIXELS:
        raise ImageError("image_too_large", f"{width}x{height} exceeds the {MAX_PIXELS} pixel limit", status=413)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _looks_truncated(data: bytes, media_type: str) -> bool:
    # OpenCV fills a cut-off JPEG with grey instead of failing, so check the end markers.
    if media_type == "image/jpeg":
        return not data.rstrip(b"\x00").endswith(b"\xff\xd9")
    return b"IEND" not in data[-16:]
