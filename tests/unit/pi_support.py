"""Helpers for the device-app unit tests: generated videos, a fake clock, fake recognition and upload, and
loopback HTTP servers that answer from a script or never answer."""
from __future__ import annotations

import io
import socket
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facegate_contract import clip_key, parse_bundle_key
from facegate_contract.wire import RecognizeAnswer, convert
from facegate_rigs.scripted_server import Answer, ScriptedServer, scripted_server  # noqa: F401 - re-exported for the tests
from pi_app.recording.clip_names import clip_id
from pi_app.recording.clip_state import ClipState
from pi_app.transport.recognize_client import Recognition
from pi_app.transport.service_errors import ServiceRefused, ServiceUnavailable
from pi_app.recording.spool import CLIP_FILE, FRAME_FILE, Spool
from tests.conftest import FIXTURE_IMAGES

SIZE = (640, 480)
BOX = {"x1": 250.0, "y1": 150.0, "x2": 390.0, "y2": 290.0}  # a face's box in a 640x480 frame
OK_BODY = {"faces": [{"name": "Eileen_Collins", "confidence": 0.99, "box": BOX}], "model_version": "m1",
           "timings_ms": {"total": 12}}


def answer(faces: list[dict], model_version: str = "m-test", server_ms: float = 30.0) -> RecognizeAnswer:
    """An answer of /recognize with these faces (JSON objects, as the API sends them)."""
    return convert({"faces": faces, "model_version": model_version, "timings_ms": {"total": server_ms}},
                   RecognizeAnswer)


def face_frame(shift: int = 0, photo: str = "probe_eileen_collins.jpg") -> np.ndarray:
    """A 640x480 RGB frame with a fixture photo on a grey background, moved `shift` pixels to the right."""
    photo_rgb = cv2.cvtColor(cv2.imread(str(FIXTURE_IMAGES / photo)), cv2.COLOR_BGR2RGB)
    canvas = np.full((SIZE[1], SIZE[0], 3), 128, np.uint8)
    height, width = photo_rgb.shape[:2]
    x, y = 100 + shift, (SIZE[1] - height) // 2
    canvas[y:y + height, x:x + width] = photo_rgb
    return canvas


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    """Write RGB frames to an MP4 (mp4v: every OpenCV build has it)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def moving_face_video(path: Path, seconds: float = 3.0, fps: float = 20.0) -> Path:
    """A video of the fixture face drifting slowly to the right."""
    return write_video(path, [face_frame(i) for i in range(round(seconds * fps))], fps)


def count_frames(path: Path) -> int:
    """Frames in a video, by decoding them."""
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    return frames


class FakeClock:
    """Wall time that moves only when told."""

    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeRecognizer:
    """Answers like RecognizeClient: one face named `name` (or exactly `faces`, when given), or raises while `up`
    is False / `refuse` is set / `error` is set (that very exception)."""

    up: bool = True
    refuse: bool = False
    error: Exception | None = None
    name: str = "Eileen_Collins"
    faces: list[dict] | None = None
    calls: list[tuple[bytes, str]] = field(default_factory=list)

    def recognize(self, frame: bytes, content_type: str = "image/jpeg", clip_key: str = "") -> Recognition:
        self.calls.append((frame, clip_key))
        if self.error is not None:
            raise self.error
        if not self.up:
            raise ServiceUnavailable("recognize failed: ConnectionError")
        if self.refuse:
            raise ServiceRefused("recognize answered 400 bad_request: not an image", status=400, error="bad_request")
        faces = self.faces if self.faces is not None else [{"name": self.name, "confidence": 0.97, "box": BOX}]
        return Recognition(answer(faces), latency_ms=42.0)

    @property
    def keys(self) -> list[str]:
        return [key for _, key in self.calls]


@dataclass
class FakeUploader:
    """Keeps uploads in a dict (key → (bytes, metadata)); raises while `up` is False / `error` is set."""

    up: bool = True
    error: Exception | None = None
    objects: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    attempts: int = 0

    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        self.attempts += 1
        if self.error is not None:
            raise self.error
        if not self.up:
            raise ConnectionError("s3 unreachable")
        self.objects[key] = (path.read_bytes(), metadata)


def add_clip(spool: Spool, seq: int, recorded_at: float, device_id: str = "dev-1", **changes: object) -> ClipState:
    """Put a small committed clip (stand-in files) into the spool, with any state fields changed."""
    name = clip_id(recorded_at, seq)
    folder = spool.staging(name)
    (folder / CLIP_FILE).write_bytes(b"mp4 " + name.encode())
    (folder / FRAME_FILE).write_bytes(b"jpeg " + name.encode())
    state = ClipState(clip=name, device_id=device_id, key=clip_key(device_id, name), started_at=recorded_at - 0.5,
                      recorded_at=recorded_at, frames=10, duration_s=0.5, fourcc="mp4v", frame_index=0,
                      frame_sharpness=1.0)
    for attribute, value in changes.items():
        record, _, field_name = attribute.partition("__")
        setattr(getattr(state, record), field_name, value)
    spool.commit(state)
    return state


class HangingServer:
    """Accepts connections on 127.0.0.1 and never answers (a backend stuck mid-request); counts the connections."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._held: list[socket.socket] = []
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/recognize"

    @property
    def connections(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._held.append(conn)  # held open, never read or answered

    def close(self) -> None:
        self._closing.set()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        self._listener.close()


@contextmanager
def hanging_server() -> Iterator[HangingServer]:
    """A HangingServer for the block."""
    server = HangingServer()
    try:
        yield server
    finally:
        server.close()


def stored_clip_keys(uploader: FakeUploader) -> list[str]:
    """Every clip key the uploader holds, alone or as a member of a visit's bundle (sorted)."""
    keys = set()
    for key, (body, _) in uploader.objects.items():
        parsed = parse_bundle_key(key)
        if parsed is None:
            keys.add(key)
            continue
        with zipfile.ZipFile(io.BytesIO(body)) as bundle:
            keys.update(clip_key(parsed[0], name[: -len(".mp4")]) for name in bundle.namelist())
    return sorted(keys)
