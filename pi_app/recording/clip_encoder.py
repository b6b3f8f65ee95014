"""Encode clips as MP4: H.264 where this OpenCV build has an encoder, MPEG-4 Part 2 (mp4v) otherwise."""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

# H.264 first (small, plays in browsers); OpenCV's PyPI wheels usually have no H.264 encoder, so mp4v is the fallback.
PREFERRED_FOURCCS = ("avc1", "H264", "mp4v")
_PROBE_SIZE = (64, 64)


def _opens(fourcc: str, folder: Path) -> bool:
    path = folder / f"probe-{fourcc}.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), 10.0, _PROBE_SIZE)
    try:
        if not writer.isOpened():
            return False
        writer.write(np.zeros((_PROBE_SIZE[1], _PROBE_SIZE[0], 3), np.uint8))
    finally:
        writer.release()
    return path.exists() and path.stat().st_size > 0


@contextlib.contextmanager
def _quiet_native_logs() -> Iterator[None]:
    """Silence OpenCV's and FFmpeg's own stderr output: a failed probe is expected, not an error.

    FFmpeg writes to file descriptor 2 directly, past Python and OpenCV's log level, so the descriptor is
    pointed at /dev/null for the moment of the probe (run once, at startup).
    """
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        cv2.utils.logging.setLogLevel(level)


@functools.cache
def available_fourcc(candidates: tuple[str, ...] = PREFERRED_FOURCCS) -> str:
    """The first of `candidates` this OpenCV build can encode to MP4 (probed once per process)."""
    with _quiet_native_logs(), tempfile.TemporaryDirectory(prefix="facegate-fourcc-") as folder:
        chosen = next((fourcc for fourcc in candidates if _opens(fourcc, Path(folder))), None)
    if chosen is None:
        raise RuntimeError(f"this OpenCV build cannot write MP4 with any of {candidates}")
    log.info("clip encoder chosen", extra={"fourcc": chosen, "tried": list(candidates)})
    return chosen


class ClipWriter:
    """Writes RGB frames to one MP4 file as they arrive (nothing is buffered beyond the encoder's own)."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], fourcc: str) -> None:
        self.path = path
        self.size = size  # (width, height): every frame must have it
        self.fourcc = fourcc
        self.frames = 0
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), float(fps), size)
        if not self._writer.isOpened():
            raise RuntimeError(f"cannot open a {fourcc} writer for {path}")

    def write(self, rgb: np.ndarray) -> None:
        """Append one frame (RGB, `size`)."""
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        """Finish the file (writes the MP4 index); safe to call twice."""
        self._writer.release()
