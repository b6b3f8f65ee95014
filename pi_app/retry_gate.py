"""A ServiceGate that also takes the service's word for how long to wait.

On top of the gate's own backoff, a failure may come with a Retry-After (429, 503: the gate stays shut at
least that long, capped at the backoff's `max_s`) or call for a longer backoff of its own (401/403: the key
will not fix itself in a second). Either one also lengthens the wait when other calls already closed the gate.
"""
from __future__ import annotations

from pi_app.backoff import Backoff, ServiceGate


class RetryGate(ServiceGate):
    """ServiceGate whose `failed` can follow a Retry-After or a longer backoff."""

    def failed(self, *, retry_after_s: float | None = None, backoff: Backoff | None = None) -> float:
        """Record a failure; returns when the next call may be made (clock time).

        The wait is the backoff's delay for the consecutive failures (`backoff`, else the gate's own), or
        `retry_after_s` when that is longer, capped at that backoff's `max_s`. A call that was already under
        way when the gate closed does not count as another failure, but its Retry-After or longer backoff
        still holds the gate shut for as long as it asks.
        """
        chosen = backoff or self.backoff
        with self._lock:  # the base class's lock: the two methods must not interleave
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
