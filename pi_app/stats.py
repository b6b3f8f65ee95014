"""Counters, recent recognitions and the conditions holding the device back (credentials rejected, throttled,
recording paused), kept from the event stream, and the summary at exit."""
from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from pi_app.clip_state import NO_FACE, RECOGNISED, REFUSED, SKIPPED_STALE, UNKNOWN
from pi_app.events import Event

COUNTERS = ("recorded", "resumed", "recognised", "unknown", "no_face", "skipped_stale", "refused", "failures", "uploaded",
            "auth_failed", "throttled")
_ANSWERED = (RECOGNISED, UNKNOWN, NO_FACE)
LATENCY_WINDOW = 10_000  # percentiles over the latest recognitions: memory stays bounded on a long run


@dataclass(frozen=True)
class RecentRecognition:
    """One row of the live view."""

    ts: str
    clip: str
    status: str
    names: list[str]
    confidence: float | None
    latency_ms: float | None


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), rounded to 0.1; None without values."""
    return round(float(np.percentile(values, q)), 1) if values else None


class Stats:
    """Event sink that counts what happened; thread-safe reads for the view and the summary."""

    def __init__(self, recent: int = 12) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter({name: 0 for name in COUNTERS})
        self._latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._recent: deque[RecentRecognition] = deque(maxlen=recent)
        self._conditions: dict[str, Event] = {}  # "recording" or a stage → the event that started the condition

    def handle(self, event: Event) -> None:
        """Count one event."""
        with self._lock:
            kind = event.get("event")
            if kind == "clip_recorded":
                self._counts["recorded"] += 1
            elif kind == "resumed":
                self._counts["resumed"] += int(event.get("clips", 0))
            elif kind == "upload":
                self._counts["uploaded"] += 1
                self._conditions.pop("upload", None)  # the upload service works again
            elif kind == "failure":
                self._counts["failures"] += 1
            elif kind in ("auth_failed", "throttled"):
                self._counts[kind] += 1
                self._conditions[str(event.get("stage", ""))] = event
            elif kind == "recording_paused":
                self._conditions["recording"] = event
            elif kind == "recording_resumed":
                self._conditions.pop("recording", None)
            elif kind == "recognition":
                self._recognition(event)

    def _recognition(self, event: Event) -> None:
        status = event.get("status", "")
        if status in (*_ANSWERED, REFUSED):
            self._conditions.pop("recognize", None)  # the recognition service answered
        if status in (*_ANSWERED, SKIPPED_STALE, REFUSED):
            self._counts[status] += 1
        if status == REFUSED:
            self._counts["failures"] += 1
        if status in _ANSWERED and event.get("latency_ms") is not None:
            self._latencies.append(float(event["latency_ms"]))
        self._recent.append(RecentRecognition(str(event.get("ts", "")), str(event.get("clip", "")), status,
                                              list(event.get("names") or []), event.get("confidence"),
                                              event.get("latency_ms")))

    def counters(self) -> dict[str, int]:
        """Every counter, plus `pending_uploads` (clips recorded or resumed and not uploaded yet)."""
        with self._lock:
            counts = dict(self._counts)
        counts["pending_uploads"] = counts["recorded"] + counts["resumed"] - counts["uploaded"]
        return counts

    def conditions(self) -> list[Event]:
        """What holds the device back now, as the events that reported it: `recording_paused`, and the latest
        `auth_failed` / `throttled` of each stage until that stage succeeds again."""
        with self._lock:
            return list(self._conditions.values())

    def recent(self) -> list[RecentRecognition]:
        """The latest recognitions, oldest first."""
        with self._lock:
            return list(self._recent)

    def summary(self, **extra: Any) -> dict[str, Any]:
        """Counters and latency p50/p95 (ms, device round trip), with `extra` fields merged in."""
        counts = self.counters()
        with self._lock:
            latencies = list(self._latencies)
        return {"clips": counts["recorded"], **counts,
                "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "n": len(latencies)},
                **extra}
