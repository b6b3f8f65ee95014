"""Which clips the device has seen reach S3 (from `upload` events), so an alert can say whether its link
works yet (`clip_pending`)."""
from __future__ import annotations

import threading
from collections import OrderedDict

REMEMBERED = 1000  # alerts are about recent clips; older keys only cost memory


class ClipUploads:
    """A bounded, thread-safe set of uploaded clip keys."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, key: str) -> None:
        """Remember that `key` is in S3."""
        with self._lock:
            self._keys[key] = None
            while len(self._keys) > self._limit:
                self._keys.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._keys
