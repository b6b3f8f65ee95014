"""When to try a failing service again: exponential backoff with jitter, shared by every clip."""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n (1-based): min(max_s, base_s * 2**(n-1)), times a random factor in [1 - jitter, 1]."""

    base_s: float = 1.0
    max_s: float = 60.0
    jitter: float = 0.5

    def delay(self, failures: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after `failures` consecutive failures (0 failures: no wait)."""
        if failures <= 0:
            return 0.0
        ceiling = min(self.max_s, self.base_s * 2 ** (failures - 1))
        return ceiling * (1.0 - self.jitter * rng())  # jitter spreads devices that failed together


class ServiceGate:
    """Holds back every call to a service (recognition, upload) while it is failing.

    One failure closes the gate for a backoff delay that grows with consecutive failures; one success
    opens it again. Clips that find the gate closed wait for it instead of each hammering a service
    that is down, so a backlog costs one probe per delay, not one request per clip.
    """

    def __init__(self, backoff: Backoff, clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random) -> None:
        self.backoff = backoff
        self._clock = clock
        self._rng = rng
        self._lock = threading.Lock()
        self.failures = 0
        self.reopens_at = 0.0

    def is_open(self) -> bool:
        """True when a call may be made now."""
        with self._lock:
            return self._clock() >= self.reopens_at

    def failed(self) -> float:
        """Record a failure; returns when the next call may be made (clock time).

        Calls that were already under way when the gate closed fail too: they do not lengthen the wait.
        """
        with self._lock:
            now = self._clock()
            if now >= self.reopens_at:
                self.failures += 1
                self.reopens_at = now + self.backoff.delay(self.failures, self._rng)
            return self.reopens_at

    def succeeded(self) -> None:
        """Record a success: the service is healthy again."""
        with self._lock:
            self.failures = 0
            self.reopens_at = 0.0
