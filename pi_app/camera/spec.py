"""The `--camera` value: `picamera2` or `video:PATH`, parsed once and opened on demand."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pi_app.camera.base import Camera
from pi_app.camera.pi_camera import PiCamera2Camera
from pi_app.camera.video_file import VideoFileCamera

PICAMERA2 = "picamera2"
VIDEO_PREFIX = "video:"


@dataclass(frozen=True)
class CameraSpec:
    """Which camera to open: the Pi camera, or recorded video at `path` (a file or a folder of files)."""

    kind: str  # PICAMERA2 or "video"
    path: Path | None = None

    def describe(self) -> str:
        """A short human-readable name for logs and the live view."""
        return PICAMERA2 if self.kind == PICAMERA2 else f"video {self.path}"


def parse_camera_spec(value: str) -> CameraSpec:
    """Parse `picamera2` or `video:PATH`; raises ValueError with a message fit for the user."""
    if value == PICAMERA2:
        return CameraSpec(PICAMERA2)
    if value.startswith(VIDEO_PREFIX):
        raw = value[len(VIDEO_PREFIX):]
        if not raw:
            raise ValueError("video: needs a path, e.g. video:clips/door.mp4")
        path = Path(raw).expanduser()
        if not path.exists():
            raise ValueError(f"no video file or folder at {path}")
        return CameraSpec("video", path)
    raise ValueError(f"expected `{PICAMERA2}` or `{VIDEO_PREFIX}PATH`, got {value!r}")


def open_camera(spec: CameraSpec, *, realtime: bool = True, loop: bool = False,
                resolution: tuple[int, int] = (640, 480), fps: float = 20.0) -> Camera:
    """The camera `spec` names; `realtime`/`loop` apply to video, `resolution`/`fps` to picamera2."""
    if spec.kind == PICAMERA2:
        return PiCamera2Camera(resolution=resolution, fps=fps)
    assert spec.path is not None
    return VideoFileCamera(spec.path, realtime=realtime, loop=loop)
