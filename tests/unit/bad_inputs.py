"""Bad request kinds shared by the handler tests and the deployed-API tests."""
from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class BadInput:
    kind: str
    body: bytes
    content_type: str
    status: int
    error: str


def _png(width: int, height: int) -> bytes:
    ok, data = cv2.imencode(".png", np.zeros((height, width, 3), np.uint8))
    assert ok
    return data.tobytes()


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims huge dimensions (a decompression-bomb shape)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def bad_inputs(good_jpeg: bytes) -> list[BadInput]:
    """Every kind of bad frame body with the answer the API must give."""
    gif = b"GIF89a" + b"\x00" * 64
    return [
        BadInput("empty body", b"", "image/jpeg", 400, "empty_body"),
        BadInput("text, not an image", b"hello, I am not a picture", "image/jpeg", 415, "unsupported_media_type"),
        BadInput("gif", gif, "image/jpeg", 415, "unsupported_media_type"),
        BadInput("json body", b'{"image": "x"}', "application/json", 415, "unsupported_media_type"),
        BadInput("wrong content type header", good_jpeg, "text/plain", 415, "unsupported_media_type"),
        BadInput("truncated jpeg", good_jpeg[: len(good_jpeg) // 2], "image/jpeg", 400, "invalid_image"),
        BadInput("jpeg header only", good_jpeg[:200], "image/jpeg", 400, "invalid_image"),
        BadInput("corrupt jpeg", good_jpeg[:20] + bytes(len(good_jpeg) - 22) + b"\xff\xd9", "image/jpeg", 400, "invalid_image"),
        BadInput("truncated png", _png(64, 64)[:40], "image/png", 400, "invalid_image"),
        BadInput("tiny image", _png(8, 8), "image/png", 400, "image_too_small"),
        BadInput("huge dimensions", _png_header_claiming(30000, 30000), "image/png", 413, "image_too_large"),
        BadInput("over the size limit", b"\xff\xd8\xff" + b"\x00" * (4 * 1024 * 1024 + 10), "image/jpeg", 413, "payload_too_large"),
    ]


__all__ = ["BadInput", "bad_inputs", "io"]
