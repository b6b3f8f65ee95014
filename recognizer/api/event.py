"""Turn an API Gateway proxy event into a validated request of one route, or a clear client error.

Routes (the wire contract's): POST /recognize (a JPEG/PNG frame), POST /uploads, /upload-grants, /clip-links, /visits
and the rest (small JSON objects).
Every limit is checked here, at its boundary, and answered as a 4xx `{error, message}`.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, TypeVar

from facegate_contract import (API_KEY_HEADER, CLIP_KEY_HEADER, CLIP_LINKS_PATH, DOOR_REQUEST_STATUS_PATH,
                               DOOR_REQUESTS_PATH, FOOTAGE_PATHS, MAX_FRAME_BYTES, RECOGNIZE_PATH, UPLOAD_GRANTS_PATH,
                               UPLOADS_PATH, VISITS_PATH)
from facegate_contract.wire import WireError, decode

T = TypeVar("T")

ROUTES = (RECOGNIZE_PATH, UPLOADS_PATH, UPLOAD_GRANTS_PATH, CLIP_LINKS_PATH, VISITS_PATH, DOOR_REQUEST_STATUS_PATH,
          DOOR_REQUESTS_PATH, *FOOTAGE_PATHS)
MAX_BODY_BYTES = MAX_FRAME_BYTES  # decoded frame; base64 in the event must stay under real Lambda's 6 MB cap
MAX_JSON_BYTES = 64 * 1024  # reports and upload requests are small
MAX_HEADER_CHARS = 512  # a clip key is ~70 characters; anything near this is not one
ACCEPTED_CONTENT_TYPES = {"image/png", "image/jpeg", "image/jpg", "application/octet-stream"}


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
    clip_key: str


def header(event: dict[str, Any], name: str) -> str:
    """A request header by case-insensitive name ('' when absent)."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def api_key(event: dict[str, Any]) -> str:
    """The API key the gateway accepted for this request (API Gateway passes the header through)."""
    return header(event, API_KEY_HEADER)


def route(event: Any) -> str:
    """The route a proxy event is for; 404 for another path, 405 for a method other than POST.

    Reads both proxy event shapes: payload format 2.0 (an HTTP API's default, `rawPath` and
    `requestContext.http.method`) and 1.0 (a REST API's, `path` and `httpMethod`)."""
    if not isinstance(event, dict):
        raise RequestError(400, "bad_event", "the event is not an API Gateway proxy event")
    # A named stage's path starts with the stage; `resource` alone is what an invoke by hand may carry.
    path = str(event.get("rawPath") or event.get("path") or event.get("resource") or "")
    found = next((r for r in ROUTES if path.endswith(r)), None)
    if found is None:
        raise RequestError(404, "not_found", f"no route {path or '/'}: use POST {', '.join(ROUTES)}")
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    method = str((http.get("method") if isinstance(http, dict) else None) or event.get("httpMethod") or "").upper()
    if method != "POST":
        raise RequestError(405, "method_not_allowed", f"{method or 'this method'} is not allowed: use POST {found}")
    return found


def checked_header(event: dict[str, Any], name: str) -> str:
    """A header value that must be short printable ASCII (it ends up in logs and DynamoDB)."""
    value = header(event, name)
    if len(value) > MAX_HEADER_CHARS:
        raise RequestError(400, "bad_header", f"{name} is {len(value)} characters; the limit is {MAX_HEADER_CHARS}")
    if any(not 32 <= ord(c) < 127 for c in value):
        raise RequestError(400, "bad_header", f"{name} must be printable ASCII")
    return value


def _raw_body(event: dict[str, Any], limit: int) -> bytes:
    raw = event.get("body")
    if raw is None or raw == "":
        raise RequestError(400, "empty_body", "the request body is empty")
    if event.get("isBase64Encoded"):
        if len(raw) > limit * 4 // 3 + 4:
            raise RequestError(413, "payload_too_large", f"the body exceeds {limit} bytes")
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RequestError(400, "malformed_base64", f"the body is not valid base64: {exc}") from exc
    else:
        # A text body: API Gateway passed it through as text (JSON; an image comes base64-encoded).
        body = raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else bytes(raw)
    if len(body) > limit:
        raise RequestError(413, "payload_too_large", f"the body is {len(body)} bytes; the limit is {limit}")
    return body


def frame_request(event: dict[str, Any]) -> FrameRequest:
    """Validate content type, headers and body of POST /recognize; decode base64 bodies from API Gateway."""
    content_type = header(event, "content-type").split(";")[0].strip().lower()
    if content_type and content_type not in ACCEPTED_CONTENT_TYPES:
        raise RequestError(415, "unsupported_media_type",
                           f"Content-Type {content_type} is not accepted: send image/jpeg or image/png")
    clip_key = checked_header(event, CLIP_KEY_HEADER)
    body = _raw_body(event, MAX_BODY_BYTES)
    return FrameRequest(body=body, clip_key=clip_key)


def json_request(event: dict[str, Any], kind: type[T], errors: dict[str | None, str]) -> T:
    """The body of a small POST (uploads, clip links, visit reports) as the contract's `kind`; anything else is a
    400 whose error names the field (`errors`: field → error kind; the `None` entry for the rest)."""
    body = _raw_body(event, MAX_JSON_BYTES)
    try:
        return decode(body, kind)
    except WireError as exc:
        error = "invalid_json" if exc.malformed else errors.get(exc.field, errors[None])
        raise RequestError(400, error, str(exc)[:300]) from exc
