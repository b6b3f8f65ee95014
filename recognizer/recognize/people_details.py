"""Person details from DynamoDB `people`, cached per container with a short TTL."""
from __future__ import annotations

import logging
import time
from typing import Any
from facegate_contract.items import PERSON_KEY

log = logging.getLogger(__name__)


class PeopleDirectory:
    """GetItem by label, with a per-container cache (misses are cached too)."""

    def __init__(self, table: Any, ttl_s: float = 60.0) -> None:
        self._table = table
        self._ttl_s = ttl_s
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def details(self, label: str) -> dict[str, Any] | None:
        """The person's record without its key, {} when there is none, None when DynamoDB cannot be read (and
        nothing is cached)."""
        now = time.monotonic()
        hit = self._cache.get(label)
        if hit and now - hit[0] < self._ttl_s:
            return hit[1]
        try:
            item = self._table.get_item(Key={PERSON_KEY: label}).get("Item") or {}
        except Exception:
            log.warning("people lookup failed", extra={"label": label, "cached": bool(hit)}, exc_info=True)
            return hit[1] if hit else None
        record = {k: v for k, v in item.items() if k != PERSON_KEY}
        self._cache[label] = (now, record)
        return record
