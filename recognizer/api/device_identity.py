"""Which device is calling: from the request's API key, never from a header the device could forge.

The `devices` table maps each key's SHA-256 to its device id (`facegate device add` writes it, `device remove`
deletes it); a key in no entry is refused with a 403. This check is the API's authentication (the HTTP API passes
every request through), so answers are cached per container only briefly: a removed device's key is refused within
`REVOKE_WITHIN_S` (a device sends ~2 requests a second: about one table read every few seconds per container).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from facegate_contract import api_key_hash, device_clips_prefix
from recognizer.api.event import RequestError

log = logging.getLogger(__name__)

LOCAL_DEVICE = "local"  # in-process use without a devices table (tests, benchmarks)
REVOKE_WITHIN_S = 5.0


def require_own_clip(key: str, device: str, message: str) -> None:
    """403 `not_your_clip` (with `message`) unless `key` is under the calling device's own clips."""
    if not key.startswith(device_clips_prefix(device)):
        raise RequestError(403, "not_your_clip", message)


class DeviceDirectory:
    """Key → device id, with a per-container cache (positive answers for `ttl_s`, negative ones shorter)."""

    def __init__(self, table: Any, ttl_s: float = REVOKE_WITHIN_S, negative_ttl_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._table = table
        self._ttl_s = ttl_s
        self._negative_ttl_s = negative_ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, str | None]] = {}

    def device_for(self, api_key: str) -> str:
        """The device id of `api_key`; 403 when the key is not a registered device's."""
        if not api_key:
            raise RequestError(403, "unknown_device", "no API key: every request needs a device's x-api-key")
        digest = api_key_hash(api_key)
        now = self._clock()
        hit = self._cache.get(digest)
        if hit and now - hit[0] < (self._ttl_s if hit[1] else self._negative_ttl_s):
            device = hit[1]
        else:
            item = self._table.get_item(Key={"key_hash": digest}).get("Item")  # a failure here is a 503 upstream
            device = str(item["device_id"]) if item and item.get("device_id") else None
            self._cache[digest] = (now, device)
        if device is None:
            raise RequestError(403, "unknown_device", "this API key belongs to no registered device")
        return device


class LocalDevice:
    """Every caller is the one local device (in-process use, no devices table)."""

    def device_for(self, api_key: str) -> str:
        """Always LOCAL_DEVICE."""
        return LOCAL_DEVICE
