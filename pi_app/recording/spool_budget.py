"""The spool's disk budget: recording pauses instead of filling the disk, and resumes when space frees.

Policy: a recorded clip is never deleted to make room. When the spool holds `max_bytes` or more, or the
disk's free space falls under `min_free_bytes`, recording pauses: the clip being recorded is finished and
kept (so the spool overshoots by at most that clip), frames arriving while paused are not recorded (counted
as `frames_dropped_paused`), and the clips already in the spool keep draining. Recording resumes once the
spool is back under (1 - margin) of its budget and free space is above the floor by margin of the floor, so
it does not flap at the edge. Finished clips kept with `keep_done` count too: they hold the disk as well.
"""
from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from facegate_contract.device_events import DeviceEvent, RecordingPaused, RecordingResumed
from facegate_contract.wire import to_builtins
from pi_app.recording.spool import Spool

log = logging.getLogger(__name__)

SPOOL_FULL, DISK_LOW = "spool_full", "disk_low"
GB, MB = 1024**3, 1024**2


@dataclass(frozen=True)
class SpoolLimits:
    """How much disk the spool may take: at most `max_bytes` itself, leaving at least `min_free_bytes` free."""

    max_bytes: int = 2 * GB
    min_free_bytes: int = 200 * MB
    resume_margin: float = 0.05  # resume only with this fraction of room back, not at the first byte freed


@dataclass(frozen=True)
class SpaceReading:
    """The spool's size and the free space on its disk, in bytes."""

    spool_bytes: int
    free_bytes: int


class SpaceProbe(Protocol):
    """Where the guard learns the disk's state (tests pass a fake; nothing has to fill a real disk)."""

    def read(self) -> SpaceReading:
        """The spool's size and the disk's free space now."""
        ...


class SpoolSpace:
    """The real probe: the spool's running total (no directory walk) and the file system's free space (statvfs)."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool

    def read(self) -> SpaceReading:
        """Cheap enough to call for every frame."""
        return SpaceReading(self.spool.bytes_used(), shutil.disk_usage(self.spool.root).free)


class RecordingGuard:
    """Asked for every frame whether it may be recorded; pauses and resumes recording by the budget and says so
    with `recording_paused` (reason, numbers) and `recording_resumed` events."""

    def __init__(self, limits: SpoolLimits, probe: SpaceProbe, emit: Callable[[DeviceEvent], None], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.probe = probe
        self.emit = emit
        self.clock = clock
        self.paused_reason: str | None = None
        self.frames_dropped = 0  # over the whole run
        self._paused_at = 0.0
        self._dropped_this_pause = 0

    @property
    def paused(self) -> bool:
        """True while recording is paused."""
        return self.paused_reason is not None

    def admit(self) -> bool:
        """True when the next frame may be recorded; False (and counted as dropped) while paused."""
        reading = self.probe.read()
        if self.paused_reason is None:
            reason = self._over_limit(reading)
            if reason is not None:
                self._pause(reason, reading)
        elif self._has_room_again(reading):
            self._resume(reading)
        if self.paused_reason is not None:
            self.frames_dropped += 1
            self._dropped_this_pause += 1
            return False
        return True

    def _over_limit(self, reading: SpaceReading) -> str | None:
        if reading.spool_bytes >= self.limits.max_bytes:
            return SPOOL_FULL
        if reading.free_bytes < self.limits.min_free_bytes:
            return DISK_LOW
        return None

    def _has_room_again(self, reading: SpaceReading) -> bool:
        margin = self.limits.resume_margin
        return (reading.spool_bytes <= self.limits.max_bytes * (1 - margin)
                and reading.free_bytes >= self.limits.min_free_bytes * (1 + margin))

    def _pause(self, reason: str, reading: SpaceReading) -> None:
        self.paused_reason, self._paused_at, self._dropped_this_pause = reason, self.clock(), 0
        event = RecordingPaused(reason=reason, spool_bytes=reading.spool_bytes, spool_max_bytes=self.limits.max_bytes,
                                free_bytes=reading.free_bytes, min_free_bytes=self.limits.min_free_bytes)
        log.warning("recording paused: no room for more clips", extra=to_builtins(event))
        self.emit(event)

    def _resume(self, reading: SpaceReading) -> None:
        reason, self.paused_reason = self.paused_reason, None
        event = RecordingResumed(after=reason, paused_s=round(self.clock() - self._paused_at, 1),
                                 frames_dropped=self._dropped_this_pause, spool_bytes=reading.spool_bytes,
                                 spool_max_bytes=self.limits.max_bytes, free_bytes=reading.free_bytes,
                                 min_free_bytes=self.limits.min_free_bytes)
        log.info("recording resumed", extra=to_builtins(event))
        self.emit(event)
