"""Cut the camera's stream into fixed-length clips, written into the spool as the frames arrive."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pi_app.camera.base import Frame
from pi_app.recording.clip_encoder import ClipWriter, available_fourcc
from facegate_contract import clip_key
from pi_app.recording.clip_names import clip_id
from pi_app.recording.clip_state import ClipState
from pi_app.recording.frame_choice import SharpestFrame
from pi_app.recording.image_encoding import DEFAULT_MAX_SIDE, encode_jpeg
from pi_app.recording.motion_gate import MotionMeter
from pi_app.recording.spool import CLIP_FILE, FRAME_FILE, Spool

# Frame times are floats (index / fps): without the slack a frame exactly on a boundary can land a clip early.
_BOUNDARY_SLACK = 1e-6


@dataclass
class _OpenClip:
    clip: str
    folder: Path
    window: int
    started_at: float
    writer: ClipWriter
    sharpest: SharpestFrame
    last_t: float  # camera time of the clip's latest frame


class ClipRecorder:
    """Groups frames into clips of `clip_seconds` of camera time: frame t belongs to window floor((t - t0) / length).

    Frames are encoded as they come and only the sharpest one is held in memory, so memory does not grow
    with the clip. Every frame is also scored for motion (across clip boundaries: the first frame of a clip
    is compared with the last ones of the clip before). A finished clip is committed to the spool with its
    chosen frame as JPEG and its motion score, and handed to `on_clip`.

    Clips are stamped with the wall clock as they are recorded; with `stream_clock` (a recorded video replayed
    faster than real time) with the camera's own time instead, from the wall time of its first frame, so a
    replay's clips are as far apart as the video's moments (visits depend on it).
    """

    def __init__(self, spool: Spool, device_id: str, fps: float, clip_seconds: float = 0.5,
                 fourcc: str | None = None, max_side: int = DEFAULT_MAX_SIDE,
                 wall_clock: Callable[[], float] = time.time,
                 on_clip: Callable[[ClipState], None] | None = None, stream_clock: bool = False) -> None:
        if clip_seconds <= 0:
            raise ValueError("clip_seconds must be positive")
        self.spool = spool
        self.device_id = device_id
        self.fps = fps
        self.clip_seconds = clip_seconds
        self.fourcc = fourcc or available_fourcc()
        self.max_side = max_side
        self._wall_clock = wall_clock
        self._stream_clock = stream_clock
        self._origin: float | None = None  # wall time of camera time 0 (stream_clock)
        self._on_clip = on_clip
        self._seq = spool.next_seq()
        self._t0: float | None = None
        self._open: _OpenClip | None = None
        self._motion = MotionMeter()

    def add(self, frame: Frame) -> ClipState | None:
        """Record one frame; returns the clip this frame completed, if it started a new one."""
        if self._t0 is None:
            self._t0 = frame.t
        window = math.floor((frame.t - self._t0) / self.clip_seconds + _BOUNDARY_SLACK)
        finished = None
        current = self._open
        if current is not None and (window != current.window or _size(frame.rgb) != current.writer.size):
            finished = self._finish(current)  # a new window, or the source changed resolution
        if self._open is None:
            self._open = self._start(window, _size(frame.rgb), frame.t)
        self._open.last_t = frame.t
        self._open.writer.write(frame.rgb)
        self._open.sharpest.offer(frame.rgb)
        self._motion.offer(frame.rgb, frame.t)
        return finished

    def close(self) -> ClipState | None:
        """Finish the clip in progress (shorter than a full clip when the stream stopped mid-way)."""
        return self._finish(self._open) if self._open is not None else None

    def _now(self, t: float) -> float:
        """When camera time `t` happened: the wall clock, or (stream_clock) the stream's own time."""
        if not self._stream_clock:
            return self._wall_clock()
        if self._origin is None:
            self._origin = self._wall_clock() - t
        return self._origin + t

    def _start(self, window: int, size: tuple[int, int], t: float) -> _OpenClip:
        started_at = self._now(t)
        name = clip_id(started_at, self._seq)
        self._seq += 1
        folder = self.spool.staging(name)
        writer = ClipWriter(folder / CLIP_FILE, self.fps, size, self.fourcc)
        return _OpenClip(name, folder, window, started_at, writer, SharpestFrame(), t)

    def _finish(self, current: _OpenClip) -> ClipState:
        self._open = None
        current.writer.close()
        assert current.sharpest.frame is not None  # a clip is opened by its first frame
        (current.folder / FRAME_FILE).write_bytes(encode_jpeg(current.sharpest.frame, self.max_side))
        state = ClipState(
            clip=current.clip, device_id=self.device_id, key=clip_key(self.device_id, current.clip),
            started_at=current.started_at, recorded_at=self._now(current.last_t + 1 / self.fps),
            frames=current.writer.frames,
            duration_s=round(current.writer.frames / self.fps, 3), fourcc=self.fourcc,
            frame_index=current.sharpest.index, frame_sharpness=round(current.sharpest.score, 2),
            stream_offset_s=round(current.window * self.clip_seconds, 3), motion=self._motion.take(),
        )
        self.spool.commit(state)
        if self._on_clip is not None:
            self._on_clip(state)
        return state


def _size(rgb: np.ndarray) -> tuple[int, int]:
    return rgb.shape[1], rgb.shape[0]
