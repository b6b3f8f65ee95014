"""Turn an API Gateway proxy event into the frame bytes, or a clear client error."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

MAX_BODY_BYTES = 4 * 1024 * 1024  # decoded; base64 in the event must stay under real Lambda's 6 MB cap
ACCEPTED_CONTENT_TYPES = {"image/png", "image/jpeg", "image/jpg", "application/octet-stream"}
RECOGNIZE_PATH = "/recognize"


class RequestError(ValueError):
    """A request the API refuses; becomes a 4xx JSON `{error, message}`."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


@dataclass(frozen=True)
class FrameRequest:
    """A validated POST /recognize."""

    body: bytes
    device: str
    clip_key: str


def _header(headers: dict[str, Any] | None, name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return ""


def parse_event(event: Any) -> FrameRequest:
    """Validate method, path, content type and body; decode base64 bodies from API Gateway."""
    if not isinstance(event, dict):
        raise RequestError(400, "bad_event", "the event is not an API Gateway proxy event")
    method = str(event.get("httpMethod") or "").upper()
    path = str(event.get("resource") or event.get("path") or "")
    if not path.endswith(RECOGNIZE_PATH):
        raise RequestError(404, "not_found", f"no route {path or '/'}: use POST {RECOGNIZE_PATH}")
    if method != "POST":
        raise RequestError(405, "method_not_allowed", f"{method or 'this method'} is not allowed: use POST {RECOGNIZE_PATH}")
    headers = event.get("headers") or {}
    content_type = _header(headers, "content-type").split(";")[0].strip().lower()
    if content_type and content_type not in ACCEPTED_CONTENT_TYPES:
        raise RequestError(415, "unsupported_media_type",
                           f"Content-Type {content_type} is not accepted: send image/jpeg or image/png")
    raw = event.get("body")
    if raw is None or raw == "":
        raise RequestError(400, "empty_body", "the request body is empty: send a PNG or JPEG frame")
    if event.get("isBase64Encoded"):
        if len(raw) > MAX_BODY_BYTES * 4 // 3 + 4:
            raise RequestError(413, "payload_too_large", f"the frame exceeds {MAX_BODY_BYTES} bytes")
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RequestError(400, "malformed_base64", f"the body is not valid base64: {exc}") from exc
    else:
        # A text body: API Gateway passed it through because its type is not a binary media type.
        body = raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else bytes(raw)
    if len(body) > MAX_BODY_BYTES:
        raise RequestError(413, "payload_too_large", f"the frame is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    device = _header(headers, "x-facegate-device")[:64] or "unknown-device"
    clip_key = _header(headers, "x-facegate-clip-key")[:512]
    return FrameRequest(body=body, device=device, clip_key=clip_key)
