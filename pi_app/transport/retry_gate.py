"""A ServiceGate that also takes the service's word for how long to wait, and probes a failing service with
one call at a time.

On top of the gate's own backoff, a failure may come with a Retry-After (429, 503: the gate stays shut at
least that long, capped at the backoff's `max_s`) or call for a longer backoff of its own (401/403: the key
will not fix itself in a second). Either one also lengthens the wait when other calls already closed the gate.
While the service is failing, only one call at a time may probe it: a service that hangs then holds one
worker for its timeout, not every worker, and the others stay free to upload clips that turned stale.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pi_app.transport.backoff import Backoff, ServiceGate


class RetryGate(ServiceGate):
    """ServiceGate whose `failed` can follow a Retry-After or a longer backoff, with `attempt()` to call through."""

    def __init__(self, backoff: Backoff, clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random) -> None:
        super().__init__(backoff, clock, rng)
        self._probing = False  # a call to the failing service is under way

    @contextmanager
    def attempt(self) -> Iterator[float | None]:
        """Reserve a call for the block: yields None to go ahead, or the clock time to look again (the gate is
        shut, or the service is failing and another call is already probing it). Record the outcome with
        `succeeded()` / `failed()` inside the block."""
        probe = False
        with self._lock:  # the base class's lock: reserving must not interleave with failed/succeeded
            now = self._clock()
            if now < self.reopens_at:
                wait_until: float | None = self.reopens_at
            elif self.failures and self._probing:
                wait_until = now + self.backoff.base_s
            else:
                wait_until, probe = None, self.failures > 0
                self._probing = self._probing or probe
        try:
            yield wait_until
        finally:
            if probe:
                with self._lock:
                    self._probing = False

    def failed(self, *, retry_after_s: float | None = None, backoff: Backoff | None = None) -> float:
        """Record a failure; returns when the next call may be made (clock time).

        The wait is the backoff's delay for the consecutive failures (`backoff`, else the gate's own), or
        `retry_after_s` when that is longer, capped at that backoff's `max_s`. A call that was already under
        way when the gate closed does not count as another failure, but its Retry-After or longer backoff
        still holds the gate shut for as long as it asks.
        """
        chosen = backoff or self.backoff
        with self._lock:
            now = self._clock()
            if now >= self.reopens_at:
                self.failures += 1
                wait = chosen.delay(self.failures, self._rng)
            else:
                wait = chosen.delay(self.failures, self._rng) if backoff is not None else 0.0
            if retry_after_s is not None:
                wait = max(wait, min(retry_after_s, chosen.max_s))
            self.reopens_at = max(self.reopens_at, now + wait)
            return self.reopens_at
