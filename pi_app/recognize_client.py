"""HTTP client for POST /recognize: timeouts, retries with backoff + jitter on 5xx and connection
errors (never on 4xx: a refused frame stays refused)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRY_STATUSES = (500, 502, 503, 504)


class RecognizeRefused(Exception):
    """The API answered 4xx: the request itself is wrong and retrying cannot help."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error


class RecognizeUnavailable(Exception):
    """The backend could not be reached or kept failing after every retry; try again later."""


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one request: exponential backoff (factor * 2**n, capped) with random jitter."""

    attempts: int = 4
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.5

    def retry(self) -> Retry:
        return Retry(
            total=self.attempts, connect=self.attempts, read=self.attempts, status=self.attempts, other=0,
            backoff_factor=self.backoff_factor, backoff_max=self.backoff_max, backoff_jitter=self.jitter,
            status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"POST"}),
            raise_on_status=False, respect_retry_after_header=True,
        )


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
    """Sends frames to the deployed API with the device's API key."""

    def __init__(self, url: str, api_key: str, device_id: str, timeout_s: tuple[float, float] = (3.05, 30.0),
                 policy: RetryPolicy = RetryPolicy()) -> None:
        self.url = url
        self._timeout = timeout_s
        self._session = requests.Session()
        self._session.headers.update({"x-api-key": api_key, "X-Facegate-Device": device_id})
        adapter = HTTPAdapter(max_retries=policy.retry(), pool_connections=4, pool_maxsize=16)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def recognize(self, frame: bytes, content_type: str = "image/jpeg", clip_key: str = "") -> Recognition:
        """POST one encoded frame; raises RecognizeRefused (4xx) or RecognizeUnavailable (gave up)."""
        headers = {"Content-Type": content_type}
        if clip_key:
            headers["X-Facegate-Clip-Key"] = clip_key
        try:
            response = self._session.post(self.url, data=frame, headers=headers, timeout=self._timeout)
        except requests.RequestException as exc:
            raise RecognizeUnavailable(f"recognize failed after retries: {exc.__class__.__name__}") from exc
        latency_ms = response.elapsed.total_seconds() * 1e3
        if 400 <= response.status_code < 500:
            body = _json_or_empty(response)
            raise RecognizeRefused(response.status_code, str(body.get("error", "client_error")),
                                   str(body.get("message", response.text[:200])))
        if response.status_code >= 500:
            raise RecognizeUnavailable(f"recognize answered {response.status_code} after retries")
        body = _json_or_empty(response)
        return Recognition(faces=list(body.get("faces", [])), model_version=str(body.get("model_version", "")),
                           latency_ms=latency_ms, server_ms=(body.get("timings_ms") or {}).get("total"), raw=body)

    def close(self) -> None:
        self._session.close()


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
        return body if isinstance(body, dict) else {}
    except ValueError:
        return {}
