"""What the person at the terminal sees: a rich live view, or plain lines when headless / not a TTY."""
from __future__ import annotations

import sys
from typing import Any, Protocol, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from facegate_contract.device_events import (AuthFailed, BundleUploaded, ClipKept, ClipRecognition, ClipsResumed,
                                             ClipUploaded, DeviceEvent, RecordingPaused, RecordingResumed, StageFailed,
                                             Throttled)
from pi_app.runtime.stats import RecentRecognition, Stats

COUNTER_LABELS = (("recorded", "clips recorded"), ("resumed", "resumed from spool"), ("recognised", "recognised"),
                  ("unknown", "unknown"), ("no_face", "no face"), ("skipped_stale", "skipped (stale)"),
                  ("tracked", "tracked (not sent)"), ("refused", "refused (4xx)"), ("failures", "failures"), ("uploaded", "uploaded"),
                  ("bundled", "uploaded in visit bundles"), ("kept", "kept on the device"), ("pending_uploads", "pending uploads"), ("auth_failed", "auth rejected"), ("throttled", "throttled"))
SUMMARY_KEYS = ("clips", "resumed", "recognised", "unknown", "no_face", "skipped_stale", "tracked", "refused",
                "failures", "auth_failed", "throttled", "uploaded", "bundled", "kept", "pending", "frames_dropped_paused")
_STATUS_STYLE = {"recognised": "green", "unknown": "yellow", "no_face": "dim", "refused": "red", "skipped_stale": "magenta",
                 "tracked": "cyan"}


class View(Protocol):
    """An event sink with a lifetime and a last word."""

    def handle(self, event: DeviceEvent) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def show_summary(self, summary: dict[str, Any]) -> None: ...


def _who(row: RecentRecognition) -> str:
    return ", ".join(row.names) if row.names else row.status.replace("_", " ")


def _number(value: float | None, fmt: str) -> str:
    return format(value, fmt) if value is not None else "-"


def _size(n_bytes: Any) -> str:
    value = float(n_bytes or 0)
    return f"{value / 1024**3:.2f} GB" if value >= 1024**3 else f"{value / 1024**2:.0f} MB"


def notice(event: DeviceEvent) -> str | None:
    """One sentence for an event that changes what the device can do (credentials rejected, throttled,
    recording paused or resumed); None for the others."""
    match event:
        case AuthFailed():
            return (f"{event.stage}: credentials rejected (HTTP {event.status}), clips kept; "
                    f"retry in {event.retry_in_s} s")
        case Throttled():
            return f"{event.stage}: throttled (HTTP {event.status}); retry in {event.retry_in_s} s"
        case RecordingPaused():
            return (f"recording PAUSED ({event.reason}): spool {_size(event.spool_bytes)} of "
                    f"{_size(event.spool_max_bytes)}, {_size(event.free_bytes)} free "
                    f"(floor {_size(event.min_free_bytes)}); recorded clips keep draining")
        case RecordingResumed():
            return (f"recording resumed after {event.paused_s} s paused; "
                    f"{event.frames_dropped} frame(s) were not recorded")
    return None


def summary_line(summary: dict[str, Any]) -> str:
    """The summary as one `key=value` line."""
    latency = summary.get("latency_ms", {})
    fields = [f"{k}={summary[k]}" for k in SUMMARY_KEYS if k in summary]
    fields += [f"latency_p50_ms={latency.get('p50')}", f"latency_p95_ms={latency.get('p95')}"]
    if summary.get("sink_errors"):
        fields.append("sink_errors=" + ",".join(f"{name}:{n}" for name, n in summary["sink_errors"].items()))
    return "summary: " + " ".join(fields)


class PlainView:
    """One line per recognition, upload, failure and notice: for logs, pipes and headless runs."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout

    def start(self) -> None:
        """Nothing to set up."""

    def stop(self) -> None:
        """Nothing to tear down."""

    def handle(self, event: DeviceEvent) -> None:
        """Print the events a person watching cares about."""
        ts = event.ts[11:23]
        match event:
            case ClipRecognition():
                who = ", ".join(event.names) or "-"
                line = (f"{ts} {event.clip} {event.status} {who} confidence={_number(event.confidence, '.2f')} "
                        f"latency_ms={_number(event.latency_ms, '.0f')}")
            case ClipUploaded():
                line = f"{ts} {event.clip} uploaded {event.key}"
            case BundleUploaded():
                line = f"{ts} visit {event.visit_id}: {len(event.clips)} clip(s) uploaded in one bundle {event.key}"
            case ClipKept():
                line = f"{ts} {event.clip} kept on the device ({event.recognition}: no visit)"
            case StageFailed():
                line = f"{ts} {event.clip} {event.stage} failed (attempt {event.attempt}), retry in {event.retry_in_s} s"
            case ClipsResumed():
                line = f"{ts} resumed {event.clips} unfinished clip(s) from the spool"
            case _:
                said = notice(event)
                if said is None:
                    return
                line = f"{ts} {said}"
        print(line, file=self._out, flush=True)

    def show_summary(self, summary: dict[str, Any]) -> None:
        """Print the summary line."""
        print(summary_line(summary), file=self._out, flush=True)


class LiveView:
    """A rich Live panel: what holds the device back, recent recognitions and counters, redrawn a few times a
    second from `Stats`."""

    def __init__(self, stats: Stats, title: str, console: Console | None = None, refresh_per_second: float = 4) -> None:
        self.stats = stats
        self.title = title
        self.console = console or Console()
        self._live = Live(get_renderable=self.render, console=self.console, refresh_per_second=refresh_per_second)

    def start(self) -> None:
        """Start redrawing."""
        self._live.start()

    def stop(self) -> None:
        """Draw once more and stop."""
        self._live.stop()

    def handle(self, event: DeviceEvent) -> None:
        """Nothing to do per event: the view redraws from the counters."""

    def render(self) -> Group:
        """The conditions holding the device back (if any), the recent-recognitions table, the counters."""
        recent = Table(title=self.title, expand=True)
        for column, justify in (("time", "left"), ("clip", "left"), ("who", "left"), ("confidence", "right"),
                                ("latency ms", "right")):
            recent.add_column(column, justify=justify)  # type: ignore[arg-type]
        for row in self.stats.recent():
            style = _STATUS_STYLE.get(row.status, "")
            recent.add_row(row.ts[11:19], row.clip, f"[{style}]{_who(row)}[/]" if style else _who(row),
                           _number(row.confidence, ".2f"), _number(row.latency_ms, ".0f"))
        counts = self.stats.counters()
        counters = Table.grid(padding=(0, 2))
        for start in range(0, len(COUNTER_LABELS), 6):
            counters.add_row(*(f"{label}: [bold]{counts[key]}[/]" for key, label in COUNTER_LABELS[start:start + 6]))
        notices = [Text(f"{event.ts[11:19]} {notice(event)}", style="bold red")
                   for event in self.stats.conditions()]
        return Group(*notices, recent, counters)

    def show_summary(self, summary: dict[str, Any]) -> None:
        """Print the summary as a table."""
        table = Table(title="summary")
        table.add_column("what")
        table.add_column("value", justify="right")
        for key in SUMMARY_KEYS:
            if key in summary:
                table.add_row(key.replace("_", " "), str(summary[key]))
        latency = summary.get("latency_ms", {})
        table.add_row("latency p50 ms", str(latency.get("p50")))
        table.add_row("latency p95 ms", str(latency.get("p95")))
        for name, errors in (summary.get("sink_errors") or {}).items():
            table.add_row(f"event sink errors: {name}", str(errors))
        self.console.print(table)
