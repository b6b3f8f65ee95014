"""Emit events from inside an event sink: sinks run under the bus lock, so an event they make (a visit
decided while handling a recognition) is queued here and emitted by this relay's thread, in order."""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from pi_app.runtime.events import Event

log = logging.getLogger(__name__)

_STOP = None


class EventRelay:
    """`put()` never blocks; `start()` then emits each event with `emit` (e.g. EventBus.emit) on a thread.
    `emit` may be bound later (`bind`), before `start()`: sinks that publish are often made before the bus."""

    def __init__(self, emit: Callable[[Event], None] | None = None) -> None:
        self._emit = emit
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="event-relay", daemon=True)

    def bind(self, emit: Callable[[Event], None]) -> None:
        """Emit with `emit` (before `start()`)."""
        self._emit = emit

    def put(self, event: Event) -> None:
        """Queue `event` for emission."""
        self._queue.put(event)

    def start(self) -> EventRelay:
        """Start emitting; returns self."""
        if self._emit is None:
            raise RuntimeError("an EventRelay needs its emit (bind) before it starts")
        self._thread.start()
        return self

    def close(self, timeout_s: float = 5.0) -> None:
        """Emit what is queued (up to `timeout_s`), then stop."""
        self._queue.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while (event := self._queue.get()) is not _STOP:
            try:
                assert self._emit is not None
                self._emit(event)
            except Exception:  # one broken sink must not stop the events after it
                log.exception("relayed event failed", extra={"event_name": event.name})
