"""Counters, recent recognitions and the conditions holding the device back (credentials rejected, throttled,
recording paused), kept from the event stream, and the summary at exit."""
from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from facegate_contract.device_events import (AuthFailed, BundleUploaded, ClipKept, ClipRecognition, ClipRecorded, ClipsResumed,
                                             ClipUploaded, DeviceEvent, RecordingPaused, RecordingResumed, StageFailed, Throttled)
from pi_app.recording.clip_state import NO_FACE, RECOGNISED, REFUSED, SKIPPED_STALE, TRACKED, UNKNOWN

COUNTERS = ("recorded", "resumed", "recognised", "unknown", "no_face", "skipped_stale", "tracked", "refused",
            "failures", "uploaded", "bundled", "bundles", "kept", "auth_failed", "throttled")
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
        # "recording" or a stage → the event that started the condition
        self._conditions: dict[str, AuthFailed | Throttled | RecordingPaused] = {}

    def handle(self, event: DeviceEvent) -> None:
        """Count one event."""
        with self._lock:
            match event:
                case ClipRecorded():
                    self._counts["recorded"] += 1
                case ClipsResumed():
                    self._counts["resumed"] += event.clips
                case ClipUploaded():
                    self._counts["uploaded"] += 1
                    self._conditions.pop("upload", None)  # the upload service works again
                case BundleUploaded():  # a visit's clips, in one object
                    self._counts["bundled"] += len(event.clips)
                    self._counts["bundles"] += 1
                    self._conditions.pop("upload", None)
                case ClipKept():
                    self._counts["kept"] += 1
                case StageFailed():
                    self._counts["failures"] += 1
                case AuthFailed() | Throttled():
                    self._counts[event.name] += 1
                    self._conditions[event.stage] = event
                case RecordingPaused():
                    self._conditions["recording"] = event
                case RecordingResumed():
                    self._conditions.pop("recording", None)
                case ClipRecognition():
                    self._recognition(event)

    def _recognition(self, event: ClipRecognition) -> None:
        status = event.status
        if status in (*_ANSWERED, REFUSED):
            self._conditions.pop("recognize", None)  # the recognition service answered
        if status in (*_ANSWERED, SKIPPED_STALE, TRACKED, REFUSED):  # tracked: not sent, no latency
            self._counts[status] += 1
        if status == REFUSED:
            self._counts["failures"] += 1
        if status in _ANSWERED and event.latency_ms is not None:
            self._latencies.append(event.latency_ms)
        self._recent.append(RecentRecognition(event.ts, event.clip, status, list(event.names), event.confidence,
                                              event.latency_ms))

    def counters(self) -> dict[str, int]:
        """Every counter, plus `pending_uploads` (clips recorded or resumed and neither uploaded nor kept on the
        device yet)."""
        with self._lock:
            counts = dict(self._counts)
        counts["pending_uploads"] = max(0, counts["recorded"] + counts["resumed"] - counts["uploaded"]
                                      - counts["bundled"] - counts["kept"])  # a kept clip brought back for a visit counts twice
        return counts

    def conditions(self) -> list[AuthFailed | Throttled | RecordingPaused]:
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
