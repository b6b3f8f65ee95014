"""The clips waiting for a worker: newest first, each no earlier than its retry time.

Holds clip ids only (the clips themselves stay in the spool), each at most once.
"""
from __future__ import annotations

import bisect
import heapq
import threading
import time
from collections.abc import Callable


class WorkQueue:
    """A thread-safe queue of clip ids that hands out the newest due clip first.

    Newest first is the backpressure policy: when recognition falls behind, the clips a person at the
    door is waiting on go first, and old ones age into `skipped_stale` instead of delaying new ones.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._ready: list[str] = []  # sorted ids; ids sort by recording time, so the newest is last
        self._waiting: list[tuple[float, str]] = []  # heap of (due time, id)
        self._queued: set[str] = set()
        self._in_flight = 0
        self._closed = False

    def put(self, clip: str, due_at: float | None = None) -> None:
        """Queue `clip`, to be handed out at `due_at` (clock time) or at once; a clip already queued is kept once."""
        with self._cond:
            if clip in self._queued:
                return
            self._queued.add(clip)
            if due_at is None or due_at <= self._clock():
                bisect.insort(self._ready, clip)
            else:
                heapq.heappush(self._waiting, (due_at, clip))
            self._cond.notify()

    def put_after(self, clip: str, delay_s: float) -> None:
        """Queue `clip` to be handed out `delay_s` seconds from now (by the queue's clock)."""
        self.put(clip, self._clock() + delay_s)

    def take(self, timeout: float = 0.0) -> str | None:
        """The newest due clip, waiting up to `timeout` seconds for one; None if there is none or the queue closed.

        Every clip taken must be followed by `task_done()`.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                self._promote_due()
                if self._ready:
                    clip = self._ready.pop()
                    self._queued.discard(clip)
                    self._in_flight += 1
                    return clip
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return None
                if self._waiting:
                    remaining = min(remaining, max(0.0, self._waiting[0][0] - self._clock()))
                self._cond.wait(remaining)

    def task_done(self) -> None:
        """A clip handed out by `take` has been dealt with (re-`put` it first if it needs another try)."""
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def pending(self) -> int:
        """Clips queued or being worked on."""
        with self._cond:
            return len(self._ready) + len(self._waiting) + self._in_flight

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or in flight; False if `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._ready) + len(self._waiting) + self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.1))  # retries come due by the clock, not by a notify
            return True

    def close(self) -> None:
        """Wake every waiting `take` with None; queued ids stay (they are in the spool anyway)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _promote_due(self) -> None:
        now = self._clock()
        while self._waiting and self._waiting[0][0] <= now:
            _, clip = heapq.heappop(self._waiting)
            bisect.insort(self._ready, clip)
