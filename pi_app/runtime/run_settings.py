"""`facegate run`'s options, checked and grouped: which camera, which stack, which files, how clips are worked on.

Built from the command line (`RunSettings` and its parts' `checked` constructors raise typer.BadParameter naming
the option), with what the options leave out taken from the contract's device settings loader (the environment).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from facegate_contract.settings import DeviceSettings
from pi_app.camera.base import Camera
from pi_app.camera.spec import CameraSpec, open_camera, parse_camera_spec
from pi_app.recording.motion_gate import MotionPolicy
from pi_app.recording.spool_budget import GB, MB, SpoolLimits
from pi_app.recording.upload_policy import UPLOAD_MODES, UploadPolicy
from pi_app.runtime.device_app import DeviceConfig
from pi_app.runtime.footage import DEFAULT_POLL_S
from pi_app.transport.api_session import AttemptTimeout
from pi_app.transport.stack_connection import StackConnection, connect
from pi_app.transport.visit_reporter import DEFAULT_HOLD_S
from pi_app.visits.grouping import VisitConfig
from pi_app.visits.tracking_skip import TrackingPolicy


def positive(value: float | None, hint: str, allow_zero: bool = False) -> None:
    """Refuse a negative (or zero, unless allowed) option value, naming the option."""
    if value is not None and (value < 0 or (value == 0 and not allow_zero)):
        least = "zero or more" if allow_zero else "positive"
        raise typer.BadParameter(f"must be {least}, got {value}", param_hint=hint)


def camera_spec(value: str) -> CameraSpec:
    """The `--camera` value, or BadParameter."""
    try:
        return parse_camera_spec(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--camera") from exc


def resolution(value: str) -> tuple[int, int]:
    """`WIDTHxHEIGHT` as a pair of positive ints, or BadParameter."""
    try:
        width, height = (int(part) for part in value.lower().split("x"))
    except ValueError as exc:
        raise typer.BadParameter(f"expected WIDTHxHEIGHT, e.g. 640x480, got {value!r}",
                                 param_hint="--resolution") from exc
    if width <= 0 or height <= 0:
        raise typer.BadParameter("width and height must be positive", param_hint="--resolution")
    return width, height


@dataclass(frozen=True)
class CameraChoice:
    """Which camera, and how a recorded video is replayed."""

    spec: CameraSpec
    realtime: bool = True
    loop: bool = False
    size: tuple[int, int] = (640, 480)
    fps: float = 20.0

    @classmethod
    def checked(cls, camera: str, realtime: bool, loop: bool, size: str, fps: float) -> CameraChoice:
        """From the `--camera`, `--realtime`, `--loop`, `--resolution` and `--fps` options."""
        positive(fps, "--fps")
        return cls(camera_spec(camera), realtime, loop, resolution(size), fps)

    @property
    def stream_clock(self) -> bool:
        """Stamp clips with the video's own time (a video replayed faster than real time)."""
        return self.spec.kind != "picamera2" and not self.realtime

    def open(self) -> Camera:
        """Open the camera, or BadParameter (no picamera2 here, an unreadable video)."""
        try:
            return open_camera(self.spec, realtime=self.realtime, loop=self.loop, resolution=self.size, fps=self.fps)
        except (ImportError, OSError, ValueError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--camera") from exc


@dataclass(frozen=True)
class StackChoice:
    """Where the stack is: the device's file, or (developers) the deploy outputs; and how long one call may take."""

    device_file: Path | None
    outputs: Path | None
    endpoint_url: str | None
    profile: str | None
    timeout: AttemptTimeout

    @classmethod
    def checked(cls, environment: DeviceSettings, *, device_file: Path | None, outputs: Path | None,
                endpoint_url: str | None, profile: str | None, connect_timeout: float, read_timeout: float,
                stale_after: float) -> StackChoice:
        """From the options, the environment filling what they leave out (`--outputs` turns off its device file)."""
        positive(read_timeout, "--recognize-timeout")
        positive(connect_timeout, "--recognize-connect-timeout")
        timeout = AttemptTimeout(connect_s=connect_timeout, read_s=read_timeout)
        if timeout.total_s >= stale_after:  # a hung call would hold a worker until its clip is stale
            raise typer.BadParameter(f"connect + read timeout ({timeout.total_s:g} s) must be under --stale-after "
                                     f"({stale_after:g} s)", param_hint="--recognize-timeout")
        if device_file is not None and outputs is not None:
            raise typer.BadParameter("give a device file or deploy outputs, not both", param_hint="--device-file")
        return cls(device_file or (environment.device_file if outputs is None else None), outputs,
                   endpoint_url or environment.endpoint_url, profile or environment.profile, timeout)

    def connect(self) -> StackConnection:
        """Read the device file or outputs and connect (a mistake is a ContractFileError, before anything starts)."""
        return connect(device_file=self.device_file, outputs=self.outputs, endpoint_url=self.endpoint_url,
                       profile=self.profile, timeout=self.timeout)


@dataclass(frozen=True)
class DeviceFiles:
    """Where the device keeps its clips, events, logs, alerts and visit reports."""

    spool: Path
    events: Path
    log_file: Path | None
    alerts_outbox: Path
    visit_reports: Path

    def log_path(self, plain: bool) -> Path | None:
        """The JSON-lines log: --log-file, else next to the events; None (stderr) when headless without one."""
        return None if plain and self.log_file is None else (self.log_file or self.events.with_name("device.log"))


@dataclass(frozen=True)
class ClipWork:
    """How clips are cut, worked on and kept."""

    clip_seconds: float
    duration_s: float | None
    drain_timeout_s: float
    workers: int
    stale_after_s: float
    max_side: int
    fourcc: str | None
    keep_done: bool
    spool_limits: SpoolLimits
    motion: MotionPolicy
    upload: UploadPolicy
    kept_max_bytes: int
    tracking: TrackingPolicy = TrackingPolicy()

    @classmethod
    def checked(cls, *, clip_seconds: float, duration: float | None, drain_timeout: float, workers: int,
                stale_after: float, max_side: int, fourcc: str | None, keep_done: bool, spool_max_gb: float,
                spool_min_free_mb: float, motion_gate: bool, motion_threshold: float, upload_still: bool,
                upload: str, kept_max_gb: float, track_decided: bool = True, recheck_s: float = 2.0) -> ClipWork:
        """From the options of the same names."""
        for value, hint in ((clip_seconds, "--clip-seconds"), (duration, "--duration"), (stale_after, "--stale-after"),
                            (spool_max_gb, "--spool-max-gb"), (motion_threshold, "--motion-threshold"),
                            (recheck_s, "--recheck-s")):
            positive(value, hint)
        positive(drain_timeout, "--drain-timeout", allow_zero=True)
        positive(spool_min_free_mb, "--spool-min-free-mb", allow_zero=True)
        positive(kept_max_gb, "--kept-max-gb", allow_zero=True)
        if upload not in UPLOAD_MODES:
            raise typer.BadParameter(f"one of {', '.join(UPLOAD_MODES)}", param_hint="--upload")
        return cls(clip_seconds, duration, drain_timeout, workers, stale_after, max_side, fourcc, keep_done,
                   SpoolLimits(max_bytes=round(spool_max_gb * GB), min_free_bytes=round(spool_min_free_mb * MB)),
                   MotionPolicy(enabled=motion_gate, threshold=motion_threshold, upload_still=upload_still),
                   UploadPolicy(mode=upload), round(kept_max_gb * GB),  # type: ignore[arg-type]  # checked above
                   TrackingPolicy(enabled=track_decided, recheck_s=recheck_s))


@dataclass(frozen=True)
class RunSettings:
    """Everything `facegate run` was told."""

    camera: CameraChoice
    stack: StackChoice
    files: DeviceFiles
    work: ClipWork
    actions: Path | None  # the action rules (TOML), if any
    plain: bool  # plain lines instead of the live view
    log_level: str
    visit_report_hold_s: float = DEFAULT_HOLD_S  # a visit's report waits this long for the visit's final one
    footage_poll_s: float = DEFAULT_POLL_S  # how often the device asks for its footage requests (0: never)

    def device_config(self, device_id: str, visits: VisitConfig) -> DeviceConfig:
        """The device app's configuration for the device the stack knows as `device_id`."""
        work = self.work
        return DeviceConfig(device_id=device_id, spool_dir=self.files.spool, events_path=self.files.events,
                            clip_seconds=work.clip_seconds, workers=work.workers, stale_after_s=work.stale_after_s,
                            duration_s=work.duration_s, drain_timeout_s=work.drain_timeout_s, max_side=work.max_side,
                            fourcc=work.fourcc, keep_done=work.keep_done, spool_limits=work.spool_limits,
                            motion=work.motion, upload=work.upload, kept_max_bytes=work.kept_max_bytes, visits=visits,
                            stream_clock=self.camera.stream_clock, tracking=work.tracking)
