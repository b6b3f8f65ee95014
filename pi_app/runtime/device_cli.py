"""`facegate run` (the device app), `facegate check-actions` (its action rules), `facegate release-pins` (every
output off, for the systemd unit's stop path) and `facegate collect` (face photos for training) on the command line."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from facegate_contract import is_label
from facegate_contract.settings import ENV_DEVICE_FILE, ENV_ENDPOINT_URL
from pi_app.runtime.footage import DEFAULT_POLL_S

from pi_app.camera.base import Camera

if TYPE_CHECKING:
    from pi_app.actions import ActionsConfig, DeviceActions
    from pi_app.runtime.event_relay import EventRelay
    from pi_app.runtime.run_settings import RunSettings
    from pi_app.transport.stack_connection import StackConnection

console = Console(stderr=True)

DEVICE_DIR = Path(".facegate/device")

CameraOpt = Annotated[str, typer.Option("--camera", help="`picamera2` (Raspberry Pi) or `video:PATH` (a file or folder).")]
RealtimeOpt = Annotated[bool, typer.Option("--realtime/--fast", help="Replay video at its frame rate, or as fast as it decodes.")]
LoopOpt = Annotated[bool, typer.Option("--loop", help="Replay the video again and again.")]
ResolutionOpt = Annotated[str, typer.Option("--resolution", help="picamera2 frame size, WIDTHxHEIGHT.")]
FpsOpt = Annotated[float, typer.Option("--fps", help="picamera2 frame rate.")]


def _load_actions(path: Path, hint: str) -> ActionsConfig:
    from pi_app.actions import ActionsConfigError, load_actions_config

    try:
        return load_actions_config(path)
    except ActionsConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from exc


def run(
    camera: CameraOpt = "picamera2",
    device_file: Annotated[Optional[Path], typer.Option(
        "--device-file", help=f"The device's file from `facegate device add` (or ${ENV_DEVICE_FILE}): its whole "
                              "configuration (API URL, its own key, its id); clips go to S3 through presigned URLs, "
                              "no AWS credentials needed.")] = None,
    outputs: Annotated[Optional[Path], typer.Option(
        "--outputs", help="Developers, without --device-file: the deploy outputs (default .facegate/outputs.json); "
                          "the developer key, clips straight to S3 with --profile's credentials.")] = None,
    endpoint_url: Annotated[Optional[str], typer.Option(
        "--endpoint-url", help=f"With --outputs: reach the emulator at this URL (or ${ENV_ENDPOINT_URL}).")] = None,
    profile: Annotated[Optional[str], typer.Option(
        "--profile", help="With --outputs: AWS named profile for direct S3 uploads (or $AWS_PROFILE).")] = None,
    spool: Annotated[Path, typer.Option("--spool", help="Where clips wait for recognition and upload.")] = DEVICE_DIR / "spool",
    events: Annotated[Path, typer.Option("--events", help="JSONL event log (appended).")] = DEVICE_DIR / "events.jsonl",
    log_file: Annotated[Optional[Path], typer.Option("--log-file", help="JSON-lines log (default: next to --events; "
                                                                        "stderr when --headless).")] = None,
    clip_seconds: Annotated[float, typer.Option("--clip-seconds", help="Length of each clip.")] = 0.5,
    realtime: RealtimeOpt = True,
    loop: LoopOpt = False,
    duration: Annotated[Optional[float], typer.Option("--duration", help="Stop after this many seconds of video.")] = None,
    drain_timeout: Annotated[float, typer.Option("--drain-timeout", help="Seconds to wait at exit for pending work; "
                                                                         "the rest stays in the spool.")] = 10.0,
    workers: Annotated[int, typer.Option("--workers", min=1, max=16, help="Recognition/upload threads.")] = 2,
    stale_after: Annotated[float, typer.Option("--stale-after", help="Clips older than this many seconds are "
                                                                     "uploaded without recognition.")] = 30.0,
    recognize_timeout: Annotated[float, typer.Option("--recognize-timeout", help="Seconds to wait for a recognition "
                                                                                 "answer; one attempt per call, the "
                                                                                 "worker's backoff retries.")] = 10.0,
    recognize_connect_timeout: Annotated[float, typer.Option("--recognize-connect-timeout",
                                                             help="Seconds to open a connection to the API.")] = 3.05,
    spool_max_gb: Annotated[float, typer.Option("--spool-max-gb", help="Disk budget of the spool: recording pauses "
                                                                       "(recorded clips are kept) when it is full.")] = 2.0,
    spool_min_free_mb: Annotated[float, typer.Option("--spool-min-free-mb", help="Free disk space to leave: recording "
                                                                                 "pauses below it.")] = 200.0,
    max_side: Annotated[int, typer.Option("--max-side", min=64, help="Longest side of the frame sent for recognition.")] = 640,
    fourcc: Annotated[Optional[str], typer.Option("--fourcc", help="Clip codec (default: avc1/H264 if available, "
                                                                   "else mp4v).")] = None,
    resolution: ResolutionOpt = "640x480",
    fps: FpsOpt = 20.0,
    headless: Annotated[bool, typer.Option("--headless", help="Plain lines instead of the live view (automatic "
                                                             "when stdout is not a terminal).")] = False,
    keep_done: Annotated[bool, typer.Option("--keep-done", help="Keep finished clips in the spool.")] = False,
    actions: Annotated[Optional[Path], typer.Option("--actions", help="Action rules (TOML): GPIO pulses and webhook "
                                                                     "alerts; see pi_app/actions.example.toml.")] = None,
    alerts_outbox: Annotated[Path, typer.Option("--alerts-outbox", help="Where alerts wait for delivery "
                                                                        "(with --actions).")] = DEVICE_DIR / "alerts",
    visit_reports: Annotated[Path, typer.Option("--visit-reports", help="Where visit reports wait until the API "
                                                                        "has them.")] = DEVICE_DIR / "visits",
    visit_report_hold: Annotated[float, typer.Option("--visit-report-hold", help="Seconds a visit's report waits "
                                                     "for the visit to end before it is sent (a short visit then "
                                                     "sends one report, its final one; 0: every report at "
                                                     "once).")] = 10.0,
    motion_gate: Annotated[bool, typer.Option("--motion-gate/--no-motion-gate", help="Skip recognising clips where "
                                                                                    "nothing moves and no visit is "
                                                                                    "open.")] = True,
    motion_threshold: Annotated[float, typer.Option("--motion-threshold", help="Moving fraction of the frame that "
                                                                               "counts as motion.")] = 0.002,
    upload_still: Annotated[bool, typer.Option("--upload-still/--no-upload-still", help="Upload clips the motion "
                                                                                       "gate skipped.")] = True,
    upload: Annotated[str, typer.Option("--upload", help="Which clips go to S3: 'visits' (a visit's clips, a margin "
                                                         "before it and what alerts link to; an empty doorway stays "
                                                         "on the device) or 'all'.")] = "visits",
    track_decided: Annotated[bool, typer.Option("--track-decided/--no-track-decided",
                                                help="Send no clip of a decided visit whose actions are done while "
                                                     "the same face(s) are still there (checked on the device).")] = True,
    recheck_s: Annotated[float, typer.Option("--recheck-s", help="With --track-decided: send a clip of such a visit "
                                                                 "at least this often all the same.")] = 2.0,
    kept_max_gb: Annotated[float, typer.Option("--kept-max-gb", help="Disk for clips kept on the device instead "
                                                                     "of S3; the oldest go first.")] = 1.0,
    footage_poll_s: Annotated[float, typer.Option("--footage-poll-s", min=0.0, help="Seconds between asks for the "
                                                                              "console's footage requests (one small "
                                                                              "call each); 0: never.")] = DEFAULT_POLL_S,
    log_level: Annotated[str, typer.Option("--log-level", help="Log level.")] = "INFO",
) -> None:
    """Record clips, recognise a frame of each through the API and upload every clip to S3."""
    from facegate_contract.settings import device_settings
    from pi_app.runtime.run_settings import CameraChoice, ClipWork, DeviceFiles, RunSettings, StackChoice, positive

    positive(visit_report_hold, "--visit-report-hold", allow_zero=True)
    settings = RunSettings(
        camera=CameraChoice.checked(camera, realtime, loop, resolution, fps),
        work=ClipWork.checked(clip_seconds=clip_seconds, duration=duration, drain_timeout=drain_timeout,
                              workers=workers, stale_after=stale_after, max_side=max_side, fourcc=fourcc,
                              keep_done=keep_done, spool_max_gb=spool_max_gb, spool_min_free_mb=spool_min_free_mb,
                              motion_gate=motion_gate, motion_threshold=motion_threshold, upload_still=upload_still,
                              upload=upload, kept_max_gb=kept_max_gb, track_decided=track_decided,
                              recheck_s=recheck_s),
        stack=StackChoice.checked(device_settings(), device_file=device_file, outputs=outputs,  # after --stale-after
                                  endpoint_url=endpoint_url, profile=profile, connect_timeout=recognize_connect_timeout,
                                  read_timeout=recognize_timeout, stale_after=stale_after),
        files=DeviceFiles(spool, events, log_file, alerts_outbox, visit_reports),
        actions=actions, plain=headless or not sys.stdout.isatty(), log_level=log_level,
        visit_report_hold_s=visit_report_hold, footage_poll_s=footage_poll_s)
    run_device(settings)


def run_device(settings: RunSettings) -> None:
    """Run the device app as `settings` say, until the camera ends, the duration passes or a signal stops it."""
    from pi_app.runtime.device_app import DeviceApp
    from pi_app.runtime.event_relay import EventRelay
    from pi_app.runtime.footage import FootagePoller
    from pi_app.runtime.logging_setup import configure_device_logging
    from pi_app.runtime.stats import Stats
    from pi_app.runtime.views import LiveView, PlainView
    from pi_app.transport.visit_reporter import VisitReporter
    from pi_app.visits.grouping import VisitConfig

    actions_config = _load_actions(settings.actions, "--actions") if settings.actions else None  # before any start
    connection = settings.stack.connect()  # a mistake in the device file or outputs is reported now, in one line
    configure_device_logging(settings.files.log_path(settings.plain), settings.log_level)
    source = settings.camera.open()
    relay = EventRelay()  # visit events, emitted onto the bus the app makes
    device_actions = (_start_actions(actions_config, connection.device_id, settings.files.alerts_outbox, connection,
                                     source, relay) if actions_config else None)
    config = settings.device_config(connection.device_id, actions_config.visits if actions_config else VisitConfig())
    stats = Stats()
    view = PlainView() if settings.plain else LiveView(stats, f"{settings.camera.spec.describe()} · "
                                                              f"{connection.description}")
    reporter = VisitReporter(settings.files.visit_reports, connection.report_visit,
                             bundle_of=config.upload.bundle_of(connection.device_id),
                             hold_s=settings.visit_report_hold_s, publish=relay.put).start()
    flush_s = min(config.drain_timeout_s, 5.0)
    footage: FootagePoller | None = None
    try:
        app = DeviceApp(config, source, connection.recognizer, connection.uploader, view=view, stats=stats,
                        sinks=[reporter], visit_feeder=device_actions.sink if device_actions else None, relay=relay,
                        alerted=device_actions.sink.alerted.__contains__ if device_actions else lambda key: False)
        if device_actions:
            device_actions.sink.alerted.listen(app.upload_alone)  # an alert's clip is needed now: never bundled
        if settings.footage_poll_s > 0:  # the console's requests for kept footage: one small call a poll
            footage = FootagePoller(app.spool, connection.footage, connection.uploader,
                                    every_s=settings.footage_poll_s, clip_s=config.clip_seconds).start()
        app.run()
    finally:
        if footage is not None:
            footage.close(timeout_s=flush_s)
        if device_actions:
            device_actions.close(flush_timeout_s=flush_s)
        reporter.close(flush_timeout_s=flush_s)
        connection.close()


def _start_actions(config: ActionsConfig, device: str, outbox: Path, connection: StackConnection,
                   source: Camera, relay: EventRelay) -> DeviceActions:
    from pi_app.actions import DeviceActions

    try:
        return DeviceActions(config, device_id=device, outbox_dir=outbox, clip_links=connection.clip_links,
                             publish=relay.put, door_requests=connection.door_requests).start()
    except RuntimeError as exc:  # GpioUnavailable, or RPi.GPIO refusing the pins (no access to the GPIO chip)
        source.close()
        connection.close()
        raise typer.BadParameter(f"GPIO: {exc}", param_hint="--actions") from exc


def check_actions(
    file: Annotated[Path, typer.Argument(help="Action rules (TOML), e.g. pi_app/actions.example.toml.")],
) -> None:
    """Check an action rules file and print what it does (exit code 2 with every problem when it is wrong)."""
    from pi_app.actions.config_summary import describe_config

    config = _load_actions(file, "FILE")
    print(f"{file}: OK")
    for line in describe_config(config):
        print(line)


def release_pins(
    actions: Annotated[Path, typer.Option("--actions", help="The action rules (TOML) the device runs with: "
                                                            "its outputs and GPIO backend.")],
) -> None:
    """Drive every GPIO output of the action rules off (the door relay de-energised) and release the pins.

    For when the device app and its pin owner are both gone (the systemd unit's ExecStopPost); while the app
    runs, its pin owner does this itself.
    """
    from pi_app.actions.gpio_backend import load_gpio
    from pi_app.actions.gpio_outputs import release_pins as release

    config = _load_actions(actions, "--actions")
    try:
        release(load_gpio(config.gpio_backend), config.outputs)
    except RuntimeError as exc:  # GpioUnavailable, or RPi.GPIO refusing the pins
        raise typer.BadParameter(f"GPIO: {exc}", param_hint="--actions") from exc
    print(f"released: {', '.join(f'{o.name} (GPIO{o.pin})' for o in config.outputs.values()) or 'no outputs'}")

LABEL_HELP = "Person label in First_Last form."


def collect(
    name: Annotated[str, typer.Option("--name", help=LABEL_HELP)],
    count: Annotated[int, typer.Option("--count", min=1, help="How many photos to keep.")] = 20,
    camera: CameraOpt = "picamera2",
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="Data folder (seed layout).")] = Path("data/real_images"),
    min_gap: Annotated[float, typer.Option("--min-gap", help="Seconds of video between kept photos.")] = 0.5,
    realtime: RealtimeOpt = True,
    loop: LoopOpt = False,
    resolution: ResolutionOpt = "640x480",
    fps: FpsOpt = 20.0,
) -> None:
    """Capture photos of one person (one face per photo) into OUT/{training,val}/First_Last/, 80/20."""
    if not is_label(name):
        raise typer.BadParameter("use the First_Last form (letters, joined by underscores)", param_hint="--name")
    from pi_app.runtime.run_settings import CameraChoice, positive

    choice = CameraChoice.checked(camera, realtime, loop, resolution, fps)
    positive(min_gap, "--min-gap", allow_zero=True)
    source = choice.open()

    from pi_app.tools.face_collector import TRAINING, VAL, FaceCollector
    from pi_app.tools.hog_face_finder import HogFaceFinder  # dlib loads only for this command

    try:
        finder = HogFaceFinder()
    except ImportError as exc:
        source.close()
        raise typer.BadParameter(str(exc), param_hint="collect") from exc
    collector = FaceCollector(out, name, count, finder, min_gap_s=min_gap)
    try:
        with console.status(f"looking for {name}'s face…"):
            for frame in source.frames():
                if collector.offer(frame):
                    console.print(f"kept {collector.result.kept[-1]} ({len(collector.result.kept)}/{count})")
                if collector.done:
                    break
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        source.close()
    result = collector.result
    console.print(f"{name}: {len(result.kept)} photo(s) kept, {result.count(TRAINING)} training / {result.count(VAL)} val "
                  f"(passed over: {result.no_face} without a face, {result.several_faces} with several)")
    if not result.kept:
        raise typer.Exit(1)

