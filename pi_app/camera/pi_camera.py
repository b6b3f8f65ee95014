"""The Raspberry Pi camera through picamera2 (imported only when this camera is chosen)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from pi_app.camera.base import Frame

log = logging.getLogger(__name__)


def _picamera2_class() -> Any:
    try:
        from picamera2 import Picamera2
    except ImportError as exc:
        raise ImportError("picamera2 is not installed: on Raspberry Pi OS `apt install python3-picamera2` "
                          "(and create the venv with --system-site-packages); elsewhere use video:PATH") from exc
    return Picamera2


class PiCamera2Camera:
    """Frames from libcamera via picamera2 at a fixed resolution and frame rate, as RGB arrays."""

    def __init__(self, resolution: tuple[int, int] = (640, 480), fps: float = 20.0, picamera2_factory: Any = None) -> None:
        self.resolution = resolution
        self.fps = fps
        # Injectable so the wiring is testable off a Pi; importing here (not at module level) keeps
        # picamera2 optional, and a machine without it fails when the camera is chosen, not mid-run.
        self._factory = picamera2_factory or _picamera2_class()
        self._camera: Any = None
        self._stopped = threading.Event()

    def _open(self) -> Any:
        camera = self._factory()
        # libcamera names formats by little-endian word order: "BGR888" is R, G, B in memory, i.e. RGB.
        config = camera.create_video_configuration(
            main={"size": tuple(self.resolution), "format": "BGR888"},
            controls={"FrameRate": float(self.fps)},
        )
        camera.configure(config)
        camera.start()
        log.info("picamera2 started", extra={"resolution": list(self.resolution), "fps": self.fps})
        return camera

    def frames(self) -> Iterator[Frame]:
        """Capture until `close()`; each frame carries the sensor timestamp (monotonic, seconds)."""
        self._camera = self._open()
        try:
            while not self._stopped.is_set():
                request = self._camera.capture_request()
                try:
                    rgb = request.make_array("main")
                    timestamp_ns = request.get_metadata().get("SensorTimestamp", 0)
                finally:
                    request.release()  # buffers go back to libcamera at once: it has only a few
                yield Frame(rgb=rgb, t=timestamp_ns / 1e9)
        finally:
            self._release()

    def close(self) -> None:
        """Ask the capture loop to stop; the device is released when `frames()` ends."""
        self._stopped.set()

    def _release(self) -> None:
        if self._camera is not None:
            self._camera.stop()
            self._camera.close()
            self._camera = None
