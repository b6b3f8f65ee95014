"""Clips as a browser sees them: a presigned URL of a format Chromium plays, the recognised frame, a face crop.

Devices write MPEG-4 Part 2 (`mp4v`) in MP4, which no browser plays; encoding VP8 on the device would cost it
about six times the CPU per frame (docs/console.md has the numbers). So the console makes the browser's copy: the
first time a clip is watched it is transcoded to VP8 in WebM (OpenCV's own FFmpeg, no other tool) and stored beside
the clip as `<clip>.webm`, where the bucket's lifecycle rule expires it with the clip; later views are a presigned
URL of that copy. A clip a device wrote in a codec browsers play (H.264 `avc1`, VP8, VP9) is linked as it is. Old
clips (no `codec` metadata) are mp4v: they play the same way.

A clip of a visit may not be an object of its own but a member of its visit's bundle (one uncompressed ZIP of the
visit's clips, `<clip-id>.mp4` each with its metadata as the member's comment: pi_app.recording.visit_bundles).
The console learns which bundle a clip's visit has from the visit reports (`note_bundle`); a clip missing alone is
read from there: the bundle downloaded once (a few kept in memory), the member taken out, then the same transcode.
"""
from __future__ import annotations

import io
import json
import logging
import tempfile
import zipfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from botocore.exceptions import ClientError

from facegate_cli.console.clip_sandbox import ClipRefused, DecodeLimits, run_limited
from facegate_contract import bundle_member, parse_any_bundle_key, parse_clip_key
from pi_app.recording.image_encoding import DEFAULT_MAX_SIDE

log = logging.getLogger(__name__)

BROWSER_CODECS = {"avc1", "h264", "vp80", "vp90", "vp08", "vp09"}  # linked as they are
WEB_SUFFIX = ".webm"
WEB_CONTENT_TYPE = "video/webm"
WEB_FOURCC = "VP80"
LINK_EXPIRES_S = 900
CROP_MARGIN = 0.35  # of the face's size on each side of its box, in a crop shown to people
ENROL_MARGIN = 0.6  # wider: the detector needs forehead, chin and some background to find the face again
ENROL_MIN_SIDE = 200  # crops are enlarged to this so a far face is big enough for the detector
BUNDLES_KEPT = 4  # bundles held in memory (a visit's is ~25 kB a clip): the player asks for its clips one by one
CLIPS_NOTED = 50_000  # clip key -> its visit's bundle, from the visit reports read
_MISSING_CODES = ("404", "NoSuchKey", "NotFound")


class ClipMissing(LookupError):
    """The clip is not in the bucket (expired, never uploaded) or is not a clip key."""


@dataclass(frozen=True)
class ClipSource:
    """A clip's MP4 and its metadata, from its own object or its visit's bundle."""

    body: bytes
    metadata: dict[str, str]


@dataclass(frozen=True)
class ClipFrame:
    """The frame of a clip the recognizer saw (or, for clips without that metadata, the middle one)."""

    rgb: np.ndarray
    index: int
    frames: int
    box_scale: float  # multiply a reported face box by this to get clip pixels


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in _MISSING_CODES


def web_key(key: str) -> str:
    """Where the browser's copy of clip `key` is kept (beside it: expires with it)."""
    return key[: -len(".mp4")] + WEB_SUFFIX if key.endswith(".mp4") else key + WEB_SUFFIX


def _box_scale(width: int, height: int, max_side: int = DEFAULT_MAX_SIDE) -> float:
    # The device sends the recognised frame shrunk to fit `max_side`: boxes are in that frame's pixels.
    longest = max(width, height)
    return longest / max_side if longest > max_side else 1.0


def decode_frames(path: Path, max_frames: int | None = None) -> tuple[list[np.ndarray], float]:
    """Every frame of a video file as BGR, and its frame rate; ValueError past `max_frames`."""
    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
            if max_frames is not None and len(frames) > max_frames:
                raise ValueError(f"the clip has more than {max_frames} frames")
    finally:
        capture.release()
    return frames, float(fps)


def transcode_to_webm(source: Path, target: Path, max_frames: int | None = None) -> int:
    """Re-encode a clip as VP8 in WebM; returns the number of frames written."""
    frames, fps = decode_frames(source, max_frames)
    if not frames:
        raise ValueError(f"no frames could be decoded from {source.name}")
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*WEB_FOURCC), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError("this OpenCV build cannot write VP8/WebM")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return len(frames)


def concat_to_webm(sources: list[Path], target: Path, max_frames: int) -> int:
    """Several clips, one after another, as one VP8 WebM (frames resized to the first clip's size); returns the
    number of frames written. ValueError past `max_frames` in all."""
    writer = None
    written = 0
    try:
        for source in sources:
            frames, fps = decode_frames(source, max_frames - written)
            for frame in frames:
                if writer is None:
                    size = (frame.shape[1], frame.shape[0])
                    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*WEB_FOURCC), fps, size)
                    if not writer.isOpened():
                        raise RuntimeError("this OpenCV build cannot write VP8/WebM")
                if (frame.shape[1], frame.shape[0]) != size:
                    frame = cv2.resize(frame, size)
                writer.write(frame)
                written += 1
    finally:
        if writer is not None:
            writer.release()
    if not written:
        raise ValueError("no frames could be decoded from the visit's clips")
    return written


def recognised_frame(path: Path, frame_index: str, max_frames: int | None = None) -> tuple[np.ndarray, int, int]:
    """The clip's frame at `frame_index` (its metadata; the middle one when that is not a number) as RGB, with
    its index and the clip's frame count; ClipMissing when no frame decodes."""
    frames, _ = decode_frames(path, max_frames)
    if not frames:
        raise ClipMissing(f"{path.name} has no frame that decodes")
    try:
        index = int(frame_index)
    except ValueError:
        index = len(frames) // 2
    index = min(max(index, 0), len(frames) - 1)
    return cv2.cvtColor(frames[index], cv2.COLOR_BGR2RGB), index, len(frames)


def crop_face(rgb: np.ndarray, box: tuple[float, float, float, float], margin: float, min_side: int = 0) -> np.ndarray:
    """The face's box grown by `margin` of its size on each side (clipped to the frame), enlarged to `min_side`."""
    x1, y1, x2, y2 = box
    grow = margin * max(x2 - x1, y2 - y1)
    height, width = rgb.shape[:2]
    left, top = max(0, int(x1 - grow)), max(0, int(y1 - grow))
    right, bottom = min(width, int(np.ceil(x2 + grow))), min(height, int(np.ceil(y2 + grow)))
    if right - left < 2 or bottom - top < 2:
        raise ValueError("the face box lies outside the frame")
    crop = rgb[top:bottom, left:right]
    shortest = min(crop.shape[:2])
    if min_side and shortest < min_side:
        scale = min_side / shortest
        crop = cv2.resize(crop, (round(crop.shape[1] * scale), round(crop.shape[0] * scale)),
                          interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(crop)


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


class _Lru:
    """A small thread-safe LRU cache."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class ClipMedia:
    """Reads clips from the stack's bucket; makes and links their browser copies; cuts frames and face crops.

    `s3` reads and writes the bucket; `presigner` signs URLs for the host the browser reaches (on an emulator the
    console may reach it by another name than the browser does)."""

    def __init__(self, s3: Any, presigner: Any, bucket: str, link_expires_s: int = LINK_EXPIRES_S,
                 limits: DecodeLimits = DecodeLimits()) -> None:
        self._s3 = s3
        self._limits = limits
        self._presigner = presigner
        self._bucket = bucket
        self._link_expires_s = link_expires_s
        self._frames = _Lru(64)
        self._crops = _Lru(512)
        self._bundle_of = _Lru(CLIPS_NOTED)
        self._bundles = _Lru(BUNDLES_KEPT)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.transcodes: list[dict[str, Any]] = []  # the latest transcodes' costs (shown nowhere; tests read it)

    # ---- the browser's copy ----------------------------------------------------------------------------------
    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    # ---- clips inside a visit's bundle ------------------------------------------------------------------------
    def note_bundle(self, bundle: str, keys: Iterable[str]) -> None:
        """The clips `keys` of a visit may be members of its `bundle` (from its report), or of a footage request's
        bundle (from its device's answer); "" or not a bundle key: none."""
        if parse_any_bundle_key(bundle) is None:
            return
        for key in keys:
            self._bundle_of.put(key, bundle)

    def bundle_of(self, key: str) -> str | None:
        """The bundle noted for clip `key`, if any."""
        bundle: str | None = self._bundle_of.get(key)
        return bundle

    def _bundle(self, bundle: str) -> bytes | None:
        """A bundle's bytes (kept for the next clips of the same visit, while its ETag is the same); None when it is
        not in the bucket (not yet, or not any more: a HEAD each time, so an expired bundle is not served from
        memory)."""
        with self._lock_for(bundle):  # the player and `prepare` ask for a visit's clips at once: one download
            head = self._head(bundle)
            if head is None:
                return None
            cached: tuple[str, bytes] | None = self._bundles.get(bundle)
            if cached is not None and cached[0] == head.get("ETag"):
                return cached[1]
            try:
                response = self._s3.get_object(Bucket=self._bucket, Key=bundle)
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise
            body = self._read(response, bundle)
            self._bundles.put(bundle, (str(response.get("ETag", "")), body))
            return body

    def _member(self, key: str) -> ClipSource | None:
        """Clip `key` as a member of its visit's bundle; None when no bundle is noted for it, the bundle is not in
        the bucket, or it does not hold the clip."""
        bundle = self.bundle_of(key)
        parsed = parse_clip_key(key)
        body = self._bundle(bundle) if bundle and parsed else None
        if body is None or parsed is None:
            return None
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                info = archive.getinfo(bundle_member(parsed[1]))
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > self._limits.max_bytes:
                    raise ClipRefused(f"clip {key} in {bundle} is compressed or larger than a clip may be")
                metadata = json.loads(info.comment or b"{}")
                return ClipSource(archive.read(info), {str(k): str(v) for k, v in dict(metadata).items()})
        except KeyError:
            return None  # not a member: it went up alone, or is lost
        except (zipfile.BadZipFile, ValueError, TypeError) as exc:
            raise ClipRefused(f"bundle {bundle} cannot be read as a visit's bundle: {exc}") from exc

    def _source(self, key: str) -> ClipSource | None:
        """Clip `key`'s MP4 and metadata: its own object, else its member in its visit's bundle; None if neither."""
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if not _missing(exc):
                raise
            return self._member(key)
        return ClipSource(self._read(response, key), dict(response.get("Metadata", {})))

    def bundle_present(self, bundle: str) -> bool:
        """Is this visit (or footage) bundle in the bucket (a visit's report names it before the device has uploaded
        it)?"""
        return parse_any_bundle_key(bundle) is not None and self._head(bundle) is not None

    def _missing_message(self, key: str) -> str:
        bundle = self.bundle_of(key)
        if bundle and not self.bundle_present(bundle):
            return (f"clip {key} is not in the bucket: its visit's bundle {bundle} is not there, being uploaded (a "
                    "recent visit) or expired")
        return f"clip {key} is not in the bucket (expired or never uploaded)"

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def playable_key(self, key: str) -> str:
        """The key of a copy of clip `key` that browsers play, making it the first time (ClipMissing if none)."""
        if parse_clip_key(key) is None:
            raise ClipMissing(f"not a clip key: {key}")
        head = self._head(key)
        if head is None and self._member(key) is None:
            raise ClipMissing(self._missing_message(key))
        codec = str(head.get("Metadata", {}).get("codec", "mp4v")).lower() if head is not None else ""
        if codec in BROWSER_CODECS:
            return key  # a member of a bundle is never linked as it is: it has no URL of its own
        target = web_key(key)
        with self._lock_for(target):
            if self._head(target) is None:
                self._transcode(key, target)
        return target

    def _transcode(self, key: str, target: str) -> None:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="facegate-console-") as folder:
            source, output = Path(folder) / "clip.mp4", Path(folder) / "clip.webm"
            clip = self._source(key)
            if clip is None:
                raise ClipMissing(self._missing_message(key))
            source.write_bytes(clip.body)
            frames = run_limited(transcode_to_webm, source, output, self._limits.max_frames, limits=self._limits)
            body = output.read_bytes()
        self._s3.put_object(Bucket=self._bucket, Key=target, Body=body, ContentType=WEB_CONTENT_TYPE,
                            Metadata={"source": key.rsplit("/", 1)[-1], "codec": WEB_FOURCC.lower()})
        cost = {"key": key, "frames": frames, "ms": round((time.perf_counter() - t0) * 1e3, 1), "bytes": len(body)}
        self.transcodes = (self.transcodes + [cost])[-50:]
        log.info("clip transcoded for the browser", extra=cost)

    def _read(self, response: dict[str, Any], key: str) -> bytes:
        """A clip's bytes, refused unread when it is larger than a device may upload."""
        size = int(response.get("ContentLength") or 0)
        if size > self._limits.max_bytes:
            response["Body"].close()
            raise ClipRefused(f"clip {key} is {size} bytes; the console decodes at most {self._limits.max_bytes}")
        return response["Body"].read(self._limits.max_bytes + 1)[: self._limits.max_bytes]

    def present(self, keys: list[str]) -> dict[str, bool]:
        """Which of these clips are in the bucket (HEAD requests, a few at a time)."""
        wanted = [k for k in dict.fromkeys(keys) if parse_clip_key(k) is not None]
        with ThreadPoolExecutor(max_workers=8) as pool:
            found = list(pool.map(self._head, wanted))
        present = {k: head is not None for k, head in zip(wanted, found)}
        for key in [k for k in wanted if not present[k] and self.bundle_of(k)]:
            present[key] = self._member(key) is not None  # one download of the bundle serves all its clips
        return {**{k: False for k in keys}, **present}

    def prepare(self, keys: list[str]) -> threading.Thread:
        """Make the browser's copies of these clips in the background, in order (a visit's player finds them
        ready as it reaches them)."""
        def run() -> None:
            for key in keys:
                try:
                    self.playable_key(key)
                except (ClipMissing, ClipRefused):
                    continue
                except Exception:  # noqa: BLE001 - the player asks again, and reports what it gets
                    log.warning("clip not prepared", extra={"key": key}, exc_info=True)
        thread = threading.Thread(target=run, name="console-prepare-clips", daemon=True)
        thread.start()
        return thread

    def film(self, keys: list[str]) -> bytes:
        """The clips of a visit that are still there, back to back, as one VP8 WebM (ClipMissing if none is)."""
        with tempfile.TemporaryDirectory(prefix="facegate-console-film-") as folder:
            sources = []
            for i, key in enumerate(keys):
                try:
                    clip = self._source(key) if parse_clip_key(key) is not None else None
                except ClientError:
                    clip = None
                if clip is None:
                    continue  # expired or never uploaded: the film is made of the others
                path = Path(folder) / f"clip-{i:04d}.mp4"
                path.write_bytes(clip.body)
                sources.append(path)
            if not sources:
                raise ClipMissing("none of the visit's clips is in the bucket (expired or never uploaded)")
            target = Path(folder) / "visit.webm"
            limits = replace(self._limits, cpu_s=self._limits.cpu_s * 4, wall_s=self._limits.wall_s * 4)
            run_limited(concat_to_webm, sources, target, self._limits.max_frames, limits=limits)
            return target.read_bytes()

    def link(self, key: str) -> str:
        """A presigned GET URL of `key` for the browser."""
        return self._presigner.generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": key},
                                                      ExpiresIn=self._link_expires_s)

    # ---- frames and faces -------------------------------------------------------------------------------------
    def frame(self, key: str) -> ClipFrame:
        """The clip's recognised frame (its `frame-index` metadata; the middle frame for clips without it)."""
        cached = self._frames.get(key)
        if cached is not None:
            return cached
        if parse_clip_key(key) is None:
            raise ClipMissing(f"not a clip key: {key}")
        try:
            clip = self._source(key)
        except ClientError as exc:
            raise ClipMissing(f"clip {key} is not in the bucket") from exc
        if clip is None:
            raise ClipMissing(self._missing_message(key))
        metadata = clip.metadata
        with tempfile.TemporaryDirectory(prefix="facegate-console-") as folder:
            path = Path(folder) / "clip.mp4"
            path.write_bytes(clip.body)
            rgb, index, count = run_limited(recognised_frame, path, str(metadata.get("frame-index", "")),
                                            self._limits.max_frames, limits=self._limits)
        result = ClipFrame(rgb, index, count, _box_scale(rgb.shape[1], rgb.shape[0]))
        self._frames.put(key, result)
        return result

    def face_box(self, key: str, box: dict[str, float]) -> tuple[ClipFrame, tuple[float, float, float, float]]:
        """The clip's frame and the reported box in its pixels."""
        frame = self.frame(key)
        s = frame.box_scale
        return frame, (float(box["x1"]) * s, float(box["y1"]) * s, float(box["x2"]) * s, float(box["y2"]) * s)

    @staticmethod
    def _face_cache_key(key: str, box: dict[str, float], size: int) -> tuple[Any, ...]:
        return key, tuple(round(float(box[k]), 1) for k in ("x1", "y1", "x2", "y2")), size

    def has_face_jpeg(self, key: str, box: dict[str, float], size: int) -> bool:
        """Is this thumbnail cut already?"""
        return self._crops.get(self._face_cache_key(key, box, size)) is not None

    def face_jpeg(self, key: str, box: dict[str, float], size: int = 160) -> bytes:
        """A square-ish JPEG thumbnail of one face (cached)."""
        cache_key = self._face_cache_key(key, box, size)
        cached = self._crops.get(cache_key)
        if cached is not None:
            return cached
        frame, pixels = self.face_box(key, box)
        crop = crop_face(frame.rgb, pixels, CROP_MARGIN)
        scale = size / max(crop.shape[:2])
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        jpeg = encode_jpeg(crop, 85)
        self._crops.put(cache_key, jpeg)
        return jpeg

    def enrolment_photo(self, key: str, box: dict[str, float]) -> bytes:
        """A JPEG of one face with room around it, large enough to enrol from."""
        frame, pixels = self.face_box(key, box)
        return encode_jpeg(crop_face(frame.rgb, pixels, ENROL_MARGIN, ENROL_MIN_SIDE), 92)
