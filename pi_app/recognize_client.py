"""HTTP client for POST /recognize: one attempt per call, bounded by a connect and a read timeout.

Retrying is not done here: the worker's ServiceGate owns it (backoff shared by every clip, stale clips
uploaded on time). A call ends in a Recognition or raises one of pi_app.service_errors: refused (4xx, final),
auth rejected (401/403), throttled (429), unavailable (connection error, timeout, 408, 5xx), the last two
with the service's Retry-After when it sent one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from pi_app.retry_after import retry_after_of
from pi_app.service_errors import ServiceRefused, ServiceUnavailable, error_for_status

# The names callers used before pi_app.service_errors: the same classes.
RecognizeRefused = ServiceRefused
RecognizeUnavailable = ServiceUnavailable


@dataclass(frozen=True)
class AttemptTimeout:
    """Bounds one request: `connect_s` to open the connection, `read_s` to wait for the answer (per socket read:
    an answer of a few hundred bytes is one read, so a call ends within about connect_s + read_s)."""

    connect_s: float = 3.05
    read_s: float = 10.0

    @property
    def total_s(self) -> float:
        """The longest one attempt can hold a worker (for an answer that comes in one piece)."""
        return self.connect_s + self.read_s


@dataclass(frozen=True)
class RetryPolicy:
    """No longer used: the worker's ServiceGate owns retries. Kept so older callers that pass one still work."""


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
    """Sends frames to the deployed API with the device's API key.

    `timeout` may be changed before the client is used (e.g. from the command line's options).
    """

    def __init__(self, url: str, api_key: str, device_id: str, timeout: AttemptTimeout = AttemptTimeout(),
                 policy: RetryPolicy | None = None) -> None:
        del policy  # ignored: see RetryPolicy
        self.url = url
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({"x-api-key": api_key, "X-Facegate-Device": device_id})
        # max_retries=0: exactly one attempt, so a call holds a worker for at most its timeout.
        adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=16)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def recognize(self, frame: bytes, content_type: str = "image/jpeg", clip_key: str = "") -> Recognition:
        """POST one encoded frame once; raises a pi_app.service_errors.ServiceError when there is no answer to use."""
        headers = {"Content-Type": content_type}
        if clip_key:
            headers["X-Facegate-Clip-Key"] = clip_key
        try:
            response = self._session.post(self.url, data=frame, headers=headers,
                                          timeout=(self.timeout.connect_s, self.timeout.read_s))
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"recognize failed: {exc.__class__.__name__}") from exc
        latency_ms = response.elapsed.total_seconds() * 1e3
        body = _json_or_empty(response)
        failure = error_for_status("recognize", response.status_code, error=str(body.get("error", "")),
                                   message=str(body.get("message", response.text[:200])),
                                   retry_after_s=retry_after_of(response.status_code, response.headers, time.time()))
        if failure is not None:
            raise failure
        return Recognition(faces=list(body.get("faces", [])), model_version=str(body.get("model_version", "")),
                           latency_ms=latency_ms, server_ms=(body.get("timings_ms") or {}).get("total"), raw=body)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._session.close()


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
        return body if isinstance(body, dict) else {}
    except ValueError:
        return {}
