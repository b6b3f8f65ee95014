"""A recorded clip read back with OpenCV: what it holds and one of its frames, for a clip whose spool files
(`state.json`, `frame.jpg`) were lost to a crash or a corrupt SD card."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class VideoFacts:
    """What the container says of a clip (zeros and "" when it cannot tell)."""

    frames: int = 0
    duration_s: float = 0.0
    fourcc: str = ""


def video_facts(path: Path) -> VideoFacts:
    """Frame count, duration and codec of the video at `path`, as far as OpenCV can read them."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return VideoFacts()
        frames = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
        fps = capture.get(cv2.CAP_PROP_FPS)
        code = int(capture.get(cv2.CAP_PROP_FOURCC))
        fourcc = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ") if code > 0 else ""
        return VideoFacts(frames, round(frames / fps, 3) if fps > 0 else 0.0, fourcc)
    finally:
        capture.release()


def frame_of(path: Path, index: int) -> np.ndarray | None:
    """Frame `index` (from 0) of the video at `path` as RGB, decoded in order (a clip is a few seconds; seeking in
    an mp4v stream may land on another frame); None when the video cannot be read that far."""
    capture = cv2.VideoCapture(str(path))
    try:
        frame = None
        for _ in range(max(0, index) + 1):
            ok, frame = capture.read()
            if not ok:
                return None
        return None if frame is None else cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()
