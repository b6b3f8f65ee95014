"""HTTP client for POST /recognize: one attempt per call, bounded by a connect and a read timeout.

Retrying is not done here: the worker's ServiceGate owns it (backoff shared by every clip, stale clips
uploaded on time). A call ends in a Recognition or raises one of pi_app.service_errors: refused (4xx, final),
auth rejected (401/403), throttled (429), unavailable (connection error, timeout, 408, 5xx), the last two
with the service's Retry-After when it sent one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from facegate_contract import CLIP_KEY_HEADER, MAX_FRAME_BYTES
from pi_app.api_session import ApiSession, json_or_empty
from pi_app.service_errors import ServiceRefused, ServiceUnavailable

# The names callers used before pi_app.service_errors: the same classes.
RecognizeRefused = ServiceRefused
RecognizeUnavailable = ServiceUnavailable


@dataclass
class Recognition:
    """The API's answer for one frame, with the round-trip latency seen from the device."""

    faces: list[dict[str, Any]]
    model_version: str
    latency_ms: float
    server_ms: float | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [f.get("name", "unknown") for f in self.faces]


class RecognizeClient:
    """Sends frames to the deployed API's /recognize through the device's API session."""

    def __init__(self, url: str, session: ApiSession) -> None:
        self.url = url
        self.session = session

    def recognize(self, frame: bytes, content_type: str = "image/jpeg", clip_key: str = "") -> Recognition:
        """POST one encoded frame once; raises a pi_app.service_errors.ServiceError when there is no answer to use.

        A frame over the API's limit is refused here, as the API would refuse it (413): past the limit the
        platform answers a bare 502 that no retry can fix.
        """
        if len(frame) > MAX_FRAME_BYTES:
            raise ServiceRefused(f"the frame is {len(frame)} bytes; the API takes at most {MAX_FRAME_BYTES}",
                                 status=413, error="payload_too_large")
        headers = {"Content-Type": content_type, **({CLIP_KEY_HEADER: clip_key} if clip_key else {})}
        response = self.session.request("recognize", "POST", self.url, data=frame, headers=headers)
        body = json_or_empty(response)
        return Recognition(faces=list(body.get("faces", [])), model_version=str(body.get("model_version", "")),
                           latency_ms=response.elapsed.total_seconds() * 1e3,
                           server_ms=(body.get("timings_ms") or {}).get("total"), raw=body)

    def close(self) -> None:
        """Release the HTTP connections."""
        self.session.close()
