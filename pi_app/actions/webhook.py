"""POST one alert to the webhook and say what to do next: done, try again later, or give up.

One attempt per call, no retries here: retrying is the dispatcher's job, with backoff and the durable
outbox behind it; a 429 or 503 answer's Retry-After is passed on for it to honour. Webhook URLs often
carry a token (Slack, Home Assistant, ntfy), so only the scheme and host are ever logged or shown.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from pi_app.transport.retry_after import retry_after_of

DELIVERED, RETRY, GIVE_UP = "delivered", "retry", "give_up"
RETRY_STATUSES = (408, 429)  # the only 4xx that may succeed later; every other 4xx is final
CONNECT_TIMEOUT_S = 3.05


@dataclass(frozen=True)
class SendResult:
    """The outcome of one attempt."""

    outcome: str  # delivered | retry | give_up
    status: int | None = None  # HTTP status, None when no answer came
    error: str = ""
    latency_ms: float = 0.0
    retry_after_s: float | None = None  # what a 429 / 503 answer asked for (uncapped): not to be tried before


def url_origin(url: str) -> str:
    """scheme://host[:port] of a URL: safe to log (no path, query or credentials)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def outcome_of(status: int) -> str:
    """What an HTTP status means for an alert: 2xx delivered; 408, 429, 5xx retried; anything else final."""
    if 200 <= status < 300:
        return DELIVERED
    if status in RETRY_STATUSES or status >= 500:
        return RETRY
    return GIVE_UP  # 4xx: the receiver rejects this request; 3xx: the URL is wrong (redirects are not followed)


class WebhookSender:
    """Sends JSON alerts to one webhook URL with fixed headers."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout_s: float = 5.0) -> None:
        self._url = url
        self.origin = url_origin(url)
        self._timeout = (CONNECT_TIMEOUT_S, timeout_s)
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": "facegate-device", **(headers or {})})

    def send(self, payload: dict[str, Any]) -> SendResult:
        """POST `payload` once."""
        started = time.monotonic()
        try:
            # No redirects: following one would turn the POST into a GET, or send the alert somewhere unreviewed.
            response = self._session.post(self._url, json=payload, timeout=self._timeout, allow_redirects=False,
                                          headers={"X-Facegate-Alert-Id": str(payload.get("alert_id", ""))})
        except requests.RequestException as exc:
            return SendResult(RETRY, None, exc.__class__.__name__, _ms_since(started))
        latency_ms = _ms_since(started)
        outcome = outcome_of(response.status_code)
        error = "" if outcome == DELIVERED else f"HTTP {response.status_code}: {response.text[:200]}"
        retry_after = retry_after_of(response.status_code, response.headers, time.time()) if outcome == RETRY else None
        response.close()
        return SendResult(outcome, response.status_code, error, latency_ms, retry_after)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._session.close()


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1e3, 1)
