"""Run callbacks later: a real scheduler (one thread, monotonic clock) and a manual one whose time moves
only when told, so tests check a 2 s LED pulse without sleeping for 2 s.

Both share the same queue of calls, so what a test sees is the order the device will run them in.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class ScheduledCall:
    """A callback waiting to run; `cancel()` keeps it from running."""

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run this call (a no-op once it has run)."""
        self.cancelled = True


class Scheduler(Protocol):
    """What the GPIO outputs need: the time, and a way to run something at a later time."""

    def now(self) -> float:
        """The scheduler's clock (seconds)."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> ScheduledCall:
        """Run `callback` once the clock reaches `when`."""
        ...


class _CallQueue:
    """Calls in time order (ties in the order they were scheduled)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, ScheduledCall]] = []
        self._order = itertools.count()

    def push(self, call: ScheduledCall) -> None:
        heapq.heappush(self._heap, (call.when, next(self._order), call))

    def next_time(self) -> float | None:
        """When the earliest live call is due; None when nothing is waiting."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def live(self) -> int:
        """How many calls are still to run."""
        return sum(1 for _, _, call in self._heap if not call.cancelled)

    def pop_due(self, now: float) -> ScheduledCall | None:
        """The earliest live call due at `now`, removed from the queue."""
        due = self.next_time()
        if due is None or due > now:
            return None
        return heapq.heappop(self._heap)[2]


def _run(call: ScheduledCall) -> None:
    try:
        call.callback()
    except Exception:  # one broken callback must not stop the pulses of every other output
        log.exception("scheduled call failed")


class ThreadScheduler:
    """One daemon thread runs every callback at its time (time.monotonic: wall-clock jumps don't stretch pulses)."""

    def __init__(self) -> None:
        self._queue = _CallQueue()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="action-scheduler", daemon=True)

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def call_at(self, when: float, callback: Callable[[], None]) -> ScheduledCall:
        """Run `callback` at monotonic time `when` on the scheduler thread."""
        call = ScheduledCall(when, callback)
        with self._cond:
            self._queue.push(call)
            self._cond.notify()
        return call

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread; calls still waiting are dropped (their owners end pulses themselves at shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    call = self._queue.pop_due(self.now())
                    if call is not None:
                        break
                    due = self._queue.next_time()
                    self._cond.wait(None if due is None else max(0.0, due - self.now()))
                else:
                    return
            _run(call)  # outside the lock: a callback may schedule another call


class ManualScheduler:
    """A scheduler whose clock moves only with `advance()`, running each due call at exactly its time."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._queue = _CallQueue()

    def now(self) -> float:
        """The manual clock."""
        return self._now

    def call_at(self, when: float, callback: Callable[[], None]) -> ScheduledCall:
        """Queue `callback` for `when`."""
        call = ScheduledCall(when, callback)
        self._queue.push(call)
        return call

    def advance(self, seconds: float) -> None:
        """Move the clock forward, running every call that falls due on the way, at its own time."""
        end = self._now + seconds
        while (call := self._queue.pop_due(end)) is not None:
            self._now = max(self._now, call.when)
            _run(call)
        self._now = end

    def pending(self) -> int:
        """Calls still waiting."""
        return self._queue.live()
