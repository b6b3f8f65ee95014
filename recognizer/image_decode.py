"""Decode an uploaded frame (PNG or JPEG) into an RGB array, refusing anything else clearly.

Pillow, not OpenCV: it is a tenth of the size in the Lambda image, reads dimensions from the
header before decoding (so huge frames are refused cheaply) and raises on truncated data.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from recognizer.api.event import RequestError

MAX_PIXELS = 4096 * 4096  # larger frames are refused before decoding (decompression bombs)
MIN_SIDE = 20

_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


class ImageError(RequestError):
    """The body is not a usable image. `kind` names the problem for the API's error field."""

    def __init__(self, kind: str, message: str, status: int = 400) -> None:
        super().__init__(status, kind, message)


def sniff_media_type(data: bytes) -> str | None:
    """The media type from the file signature, or None when it is neither PNG nor JPEG."""
    for signature, media_type in _SIGNATURES.items():
        if data.startswith(signature):
            return media_type
    return None


def decode_image(data: bytes) -> np.ndarray:
    """Return an HxWx3 uint8 RGB array, or raise ImageError naming what is wrong."""
    if not data:
        raise ImageError("empty_body", "the request body is empty: send a PNG or JPEG frame")
    media_type = sniff_media_type(data)
    if media_type is None:
        raise ImageError("unsupported_media_type", "the body is not a PNG or JPEG image", status=415)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(_FORMATS))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError("image_too_large", f"{width}x{height} exceeds the {MAX_PIXELS} pixel limit", status=413)
            image.load()  # raises on truncated or corrupt data
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("image_too_large", f"the image exceeds the {MAX_PIXELS} pixel limit", status=413) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError("invalid_image", f"the {media_type} data is corrupt or truncated ({exc})") from exc
    if min(width, height) < MIN_SIDE:
        raise ImageError("image_too_small", f"{width}x{height} is too small to hold a face (min side {MIN_SIDE})")
    return np.asarray(image.convert("RGB"))


def load_rgb(path: Path) -> np.ndarray:
    """Read an image file as RGB (training, enrolment), with the same checks as uploads."""
    return decode_image(path.read_bytes())
