"""Device events (clip recorded, recognition, upload, failure...) fanned out to the log file, the counters
and the terminal view.

An event is one of the contract's typed device events (facegate_contract.device_events, tagged by its `event`
name); the bus stamps it with `ts` (UTC, ISO 8601).
A sink that raises (the event log on a full disk, an action that breaks) is logged and counted, and the
other sinks still get the event: emitting never fails, so it can never stop a clip half-way.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import msgspec

from facegate_contract import PRIVATE_FILE_MODE
from facegate_contract.device_events import AnyDeviceEvent, DeviceEvent, decode_event, encode_event
from facegate_contract.wire import WireError
from pi_app.recording.durable_files import private_dir

log = logging.getLogger(__name__)

Event = DeviceEvent
LOG_EVERY_NTH_ERROR = 100  # after a sink's first error (logged with its traceback): a disk stays full for a while


class EventSink(Protocol):
    """Anything that consumes events."""

    def handle(self, event: Event) -> None:
        """Take one event (called with the bus lock held: keep it quick)."""
        ...


def utc_iso(epoch_s: float) -> str:
    """Epoch seconds as UTC ISO 8601 with milliseconds."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sink_name(sink: object) -> str:
    """How a sink is named in logs and the summary: its `name` attribute, else its class name."""
    return str(getattr(sink, "name", "") or type(sink).__name__)


class EventBus:
    """Delivers each event to every sink, one event at a time (workers emit from several threads)."""

    def __init__(self, sinks: Iterable[EventSink] = (), clock: Callable[[], float] = time.time) -> None:
        self.sinks = list(sinks)
        self._clock = clock
        self._lock = threading.Lock()
        self._errors: Counter[str] = Counter()

    def add(self, sink: EventSink) -> None:
        """Start delivering to `sink`."""
        with self._lock:
            self.sinks.append(sink)

    def remove(self, sink: EventSink) -> None:
        """Stop delivering to `sink` (a worker still finishing may be emitting: hence the lock)."""
        with self._lock:
            self.sinks.remove(sink)

    def emit(self, event: Event) -> None:
        """Stamp and deliver one event to every sink; never raises (a failing sink is logged and counted)."""
        stamped = msgspec.structs.replace(event, ts=utc_iso(self._clock()))
        with self._lock:
            for sink in self.sinks:
                try:
                    sink.handle(stamped)
                except Exception as exc:  # whatever a sink does wrong, the other sinks and the clip go on
                    self._sink_failed(sink, stamped, exc)

    def sink_errors(self) -> dict[str, int]:
        """How many events each sink failed to take, by sink name (only sinks that failed)."""
        with self._lock:
            return dict(self._errors)

    def _sink_failed(self, sink: EventSink, event: Event, exc: Exception) -> None:
        name = sink_name(sink)
        self._errors[name] += 1
        count = self._errors[name]
        details = {"sink": name, "event_name": event.name, "errors": count, "error": repr(exc)[:300]}
        if count == 1:
            log.error("event sink failed", exc_info=exc, extra=details)
        elif count % LOG_EVERY_NTH_ERROR == 0:
            log.error("event sink still failing", extra=details)


class EventLog:
    """Appends events to a JSONL file, one line each, handed to the kernel at once so a crash loses none.

    Unbuffered on purpose: when the disk is full a write fails and that event is lost (the bus counts it),
    instead of piling up in a buffer that fails again at every later write and at close. A line a failed
    write may have cut short is ended before the next one, so one lost event never garbles another.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.parent.exists():  # a folder made for the log is owner-only; an existing one is the user's
            private_dir(self.path.parent)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
        os.fchmod(self._fd, PRIVATE_FILE_MODE)  # events name visitors: owner-only, whatever the umask or an older log
        self._line_cut = False

    def handle(self, event: Event) -> None:
        """Write one event as a JSON line; raises OSError when the disk refuses it."""
        data = encode_event(event) + b"\n"
        if self._line_cut:
            data = b"\n" + data
        self._line_cut = True  # until the whole line is written
        written = 0
        while written < len(data):
            written += os.write(self._fd, data[written:])
        self._line_cut = False

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)


def read_events(path: Path) -> list[AnyDeviceEvent]:
    """Every event in a JSONL event log (for tests and tools); a line cut short by a full disk, or of an event
    this version does not know, is skipped."""
    events: list[AnyDeviceEvent] = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            events.append(decode_event(line))
        except WireError:
            log.warning("skipped a broken event log line", extra={"path": str(path), "line": line[:200]})
    return events
