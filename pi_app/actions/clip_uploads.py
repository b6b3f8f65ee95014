"""Which clips the device has seen reach S3 (from `upload` events), so an alert can say whether its link
works yet (`clip_pending`)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

REMEMBERED = 1000  # alerts are about recent clips; older keys only cost memory


class ClipUploads:
    """A bounded, thread-safe set of uploaded clip keys."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str], None]] = []

    def add(self, key: str) -> None:
        """Remember `key` (that it is in S3, or that an alert links to it), and tell the listeners."""
        with self._lock:
            self._keys[key] = None
            while len(self._keys) > self._limit:
                self._keys.popitem(last=False)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(key)

    def listen(self, listener: Callable[[str], None]) -> None:
        """Call `listener(key)` for every key added from now on (the device app: an alert's clip waiting for its
        visit's bundle goes up alone at once)."""
        with self._lock:
            self._listeners.append(listener)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._keys
