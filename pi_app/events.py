"""Device events (clip recorded, recognition, upload, failure...) fanned out to the log file, the counters
and the terminal view.

An event is a flat JSON-able dict with an `event` name; the bus stamps it with `ts` (UTC, ISO 8601).
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

Event = dict[str, Any]


class EventSink(Protocol):
    """Anything that consumes events."""

    def handle(self, event: Event) -> None:
        """Take one event (called with the bus lock held: keep it quick)."""
        ...


def utc_iso(epoch_s: float) -> str:
    """Epoch seconds as UTC ISO 8601 with milliseconds."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventBus:
    """Delivers each event to every sink, one event at a time (workers emit from several threads)."""

    def __init__(self, sinks: Iterable[EventSink] = (), clock: Callable[[], float] = time.time) -> None:
        self.sinks = list(sinks)
        self._clock = clock
        self._lock = threading.Lock()

    def add(self, sink: EventSink) -> None:
        """Start delivering to `sink`."""
        with self._lock:
            self.sinks.append(sink)

    def remove(self, sink: EventSink) -> None:
        """Stop delivering to `sink` (a worker still finishing may be emitting: hence the lock)."""
        with self._lock:
            self.sinks.remove(sink)

    def emit(self, event: Event) -> None:
        """Stamp and deliver one event."""
        stamped = {"ts": utc_iso(self._clock()), **event}
        with self._lock:
            for sink in self.sinks:
                sink.handle(stamped)


class EventLog:
    """Appends events to a JSONL file, one line each, flushed at once so a crash loses none."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")

    def handle(self, event: Event) -> None:
        """Write one event as a JSON line."""
        self._file.write(json.dumps(event, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def read_events(path: Path) -> list[Event]:
    """Every event in a JSONL event log (for tests and tools)."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
