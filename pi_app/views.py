"""What the person at the terminal sees: a rich live view, or plain lines when headless / not a TTY."""
from __future__ import annotations

import sys
from typing import Any, Protocol, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from pi_app.events import Event
from pi_app.stats import RecentRecognition, Stats

COUNTER_LABELS = (("recorded", "clips recorded"), ("resumed", "resumed from spool"), ("recognised", "recognised"),
                  ("unknown", "unknown"), ("no_face", "no face"), ("skipped_stale", "skipped (stale)"),
                  ("refused", "refused (4xx)"), ("failures", "failures"), ("uploaded", "uploaded"),
                  ("pending_uploads", "pending uploads"))
_STATUS_STYLE = {"recognised": "green", "unknown": "yellow", "no_face": "dim", "refused": "red", "skipped_stale": "magenta"}


class View(Protocol):
    """An event sink with a lifetime and a last word."""

    def handle(self, event: Event) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def show_summary(self, summary: dict[str, Any]) -> None: ...


def _who(row: RecentRecognition) -> str:
    return ", ".join(row.names) if row.names else row.status.replace("_", " ")


def _number(value: float | None, fmt: str) -> str:
    return format(value, fmt) if value is not None else "-"


def summary_line(summary: dict[str, Any]) -> str:
    """The summary as one `key=value` line."""
    latency = summary.get("latency_ms", {})
    keys = ("clips", "recognised", "unknown", "no_face", "skipped_stale", "refused", "failures", "uploaded", "pending")
    fields = [f"{k}={summary[k]}" for k in keys if k in summary]
    fields += [f"latency_p50_ms={latency.get('p50')}", f"latency_p95_ms={latency.get('p95')}"]
    return "summary: " + " ".join(fields)


class PlainView:
    """One line per recognition, upload and failure: for logs, pipes and headless runs."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout

    def start(self) -> None:
        """Nothing to set up."""

    def stop(self) -> None:
        """Nothing to tear down."""

    def handle(self, event: Event) -> None:
        """Print the events a person watching cares about."""
        kind = event.get("event")
        ts = str(event.get("ts", ""))[11:23]
        if kind == "recognition":
            who = ", ".join(event.get("names") or []) or "-"
            line = (f"{ts} {event['clip']} {event['status']} {who} confidence={_number(event.get('confidence'), '.2f')} "
                    f"latency_ms={_number(event.get('latency_ms'), '.0f')}")
        elif kind == "upload":
            line = f"{ts} {event['clip']} uploaded {event['key']}"
        elif kind == "failure":
            line = f"{ts} {event['clip']} {event['stage']} failed (attempt {event['attempt']}), retry in {event['retry_in_s']} s"
        elif kind == "resumed":
            line = f"{ts} resumed {event['clips']} unfinished clip(s) from the spool"
        else:
            return
        print(line, file=self._out, flush=True)

    def show_summary(self, summary: dict[str, Any]) -> None:
        """Print the summary line."""
        print(summary_line(summary), file=self._out, flush=True)


class LiveView:
    """A rich Live panel: recent recognitions and counters, redrawn a few times a second from `Stats`."""

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

    def handle(self, event: Event) -> None:
        """Nothing to do per event: the view redraws from the counters."""

    def render(self) -> Group:
        """The recent-recognitions table above the counters."""
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
        counters.add_row(*(f"{label}: [bold]{counts[key]}[/]" for key, label in COUNTER_LABELS[:5]))
        counters.add_row(*(f"{label}: [bold]{counts[key]}[/]" for key, label in COUNTER_LABELS[5:]))
        return Group(recent, counters)

    def show_summary(self, summary: dict[str, Any]) -> None:
        """Print the summary as a table."""
        table = Table(title="summary")
        table.add_column("what")
        table.add_column("value", justify="right")
        for key in ("clips", "resumed", "recognised", "unknown", "no_face", "skipped_stale", "refused", "failures",
                    "uploaded", "pending"):
            if key in summary:
                table.add_row(key.replace("_", " "), str(summary[key]))
        latency = summary.get("latency_ms", {})
        table.add_row("latency p50 ms", str(latency.get("p50")))
        table.add_row("latency p95 ms", str(latency.get("p95")))
        self.console.print(table)
