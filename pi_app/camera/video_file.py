"""A recorded-video camera shim: replays a video file, or a folder of them, at the real frame rate or as fast
as possible, optionally in a loop."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import cv2

from pi_app.camera.base import Frame

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".m4v", ".h264", ".webm"}
FALLBACK_FPS = 30.0  # some containers do not record a rate


def video_files(path: Path) -> list[Path]:
    """The videos `path` names: the file itself, or the videos directly inside a folder, sorted by name."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    return [path]


def _rate(capture: cv2.VideoCapture) -> float:
    fps = capture.get(cv2.CAP_PROP_FPS)
    return fps if fps and fps > 0 else FALLBACK_FPS


class VideoFileCamera:
    """Replays recorded video as if it came from a camera.

    Frame times continue across files and loops (file after file, loop after loop), so the recorder cuts
    one continuous stream. With `realtime` frames are paced at the video's rate; otherwise they come as
    fast as they decode.
    """

    def __init__(self, path: Path, realtime: bool = True, loop: bool = False,
                 monotonic: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.files = video_files(Path(path))
        if not self.files:
            raise FileNotFoundError(f"no video files in {path}")
        missing = [f for f in self.files if not f.is_file()]
        if missing:
            raise FileNotFoundError(f"no video file at {missing[0]}")
        self.realtime = realtime
        self.loop = loop
        self._monotonic = monotonic
        self._sleep = sleep
        self._stopped = threading.Event()
        probe = cv2.VideoCapture(str(self.files[0]))
        try:
            if not probe.isOpened():
                raise ValueError(f"cannot decode video {self.files[0]}")
            self.fps = _rate(probe)
        finally:
            probe.release()

    def frames(self) -> Iterator[Frame]:
        """Every frame of every file (again and again with `loop`) until the end or `close()`."""
        offset = 0.0
        started = self._monotonic()
        while not self._stopped.is_set():
            pass_started_at = offset
            for path in self.files:
                offset = yield from self._replay(path, offset, started)
                if self._stopped.is_set():
                    return
            if not self.loop or offset == pass_started_at:  # a pass without a frame would loop forever
                return

    def _replay(self, path: Path, offset: float, started: float) -> Generator[Frame, None, float]:
        """Frames of one file; returns the stream time just after its last frame (the next file starts there)."""
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            log.warning("skipping a video that does not decode", extra={"video": str(path)})
            return offset
        fps = _rate(capture)
        index = 0
        try:
            while not self._stopped.is_set():
                ok, bgr = capture.read()
                if not ok:
                    break
                t = offset + index / fps
                index += 1
                if self.realtime:
                    self._wait_until(started + t)
                yield Frame(rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t=t)
        finally:
            capture.release()
        return offset + index / fps

    def _wait_until(self, due: float) -> None:
        delay = due - self._monotonic()
        if delay > 0:
            self._sleep(delay)

    def close(self) -> None:
        """Stop replaying; `frames()` ends after the frame in hand."""
        self._stopped.set()
