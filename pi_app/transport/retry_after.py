"""Read an HTTP `Retry-After` header: a number of seconds, or an HTTP date (RFC 9110 §10.2.3)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

RETRY_AFTER_STATUSES = (429, 503)  # the answers whose Retry-After the device honours


def retry_after_s(value: str | None, now: float) -> float | None:
    """Seconds to wait from `now` (epoch seconds) as `value` asks; None when absent or unreadable.

    A date in the past means no wait (0.0). Callers cap the result: a receiver must not park a device for a day.
    """
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are always GMT, whether or not they say so
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def retry_after_of(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """The Retry-After delay of an answer, for the statuses where the device honours it (429, 503); else None."""
    if status not in RETRY_AFTER_STATUSES:
        return None
    return retry_after_s(headers.get("Retry-After"), now)
