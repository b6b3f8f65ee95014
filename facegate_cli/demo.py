"""`facegate demo`: the main job against a deployed stack.

Enrols the demo people from the bundled fixtures, plays the fixture video through the device app
(video camera shim → 0.5 s clips → POST /recognize → S3 upload) with the live view, then checks
every clip's answer against the video's manifest. Exits 0 only if every clip was recognised as
the manifest says and every clip reached S3.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from facegate_contract.settings import ENV_ENDPOINT_URL

console = Console()

DEFAULT_FIXTURES = Path("fixtures")
DEMO_DEVICE = "demo-cam"


def _wait_for(path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise typer.BadParameter(f"no deploy outputs at {path}: run `facegate deploy` first", param_hint="--outputs")
        time.sleep(1)


def _enrol(stack, images: Path) -> str:
    """Enrol every person listed in images/manifest.json; returns the probe frame's expected name."""
    from recognizer.pipeline import FacePipeline
    from recognizer.face_library.enrolment import enrol_listed_people

    with console.status("loading the face pipeline…"):
        pipeline = FacePipeline.load("dlib")
    for result in enrol_listed_people(pipeline, stack, images):
        console.print(f"enrolled [bold]{result.name}[/] from {result.images_used} photos → model {result.version}")
    return json.loads((images / "manifest.json").read_text())["frames"][0]["expect"][0]


def _provision(outputs, path: Path) -> Path:
    """A fresh device `demo-cam` (its own API key, its device file), as `facegate device add` makes one."""
    from services.device_commands import provision, revoke
    from services.target import Target

    target = Target(endpoint_url=outputs.endpoint_url, region=outputs.region)
    revoke(target, outputs.prefix, DEMO_DEVICE)  # a key from an earlier demo is replaced, not reused
    provision(target, outputs.prefix, DEMO_DEVICE).write(path)
    console.print(f"provisioned device [bold]{DEMO_DEVICE}[/]: its own API key, clips through presigned URLs")
    return path


def _wait_until_model_is_live(client, probe: bytes, name: str, timeout_s: float = 45.0) -> None:
    # A warm Lambda follows the model pointer within its refresh period (15 s by default).
    deadline = time.monotonic() + timeout_s
    with console.status("waiting for the recognizer to load the new model…"):
        while name not in client.recognize(probe).names:
            if time.monotonic() > deadline:
                raise typer.Exit(1)
            time.sleep(2)


def _where(clip: str, check) -> str:
    """Where a clip's footage is: in S3, kept on the device (an empty doorway), or nowhere."""
    return "yes" if clip in check.uploaded else "kept on the device" if clip in check.kept else "no"


def _report(check, manifest) -> Table:
    table = Table(title=f"clips of {manifest.video.name} vs its manifest")
    for column in ("t (s)", "on screen", "recognised", "status", "in S3", "ok"):
        table.add_column(column)
    for c in check.clips:
        table.add_row(f"{c.offset_s:.1f}", ", ".join(c.expected or ()) or ("(no face)" if c.expected == () else "(change)"),
                      ", ".join(c.got or ()) or "(no face)", c.status, _where(c.clip, check),
                      "[green]yes[/]" if c.ok else "[red]no[/]")
    return table


def demo(
    outputs: Annotated[Optional[Path], typer.Option(help="Deploy outputs file (default .facegate/outputs.json).")] = None,
    endpoint_url: Annotated[Optional[str], typer.Option("--endpoint-url", envvar=ENV_ENDPOINT_URL,
                                                        help="Reach the emulator here instead of the outputs' URL.")] = None,
    fixtures: Annotated[Path, typer.Option(exists=True, file_okay=False, help="Folder with images/ and videos/.")] = DEFAULT_FIXTURES,
    video: Annotated[str, typer.Option(help="Manifest name in fixtures/videos/.")] = "demo",
    headless: Annotated[bool, typer.Option("--headless", help="Plain lines instead of the live view.")] = False,
    wait_s: Annotated[float, typer.Option(help="How long to wait for the outputs file.")] = 60.0,
) -> None:
    """Enrol the demo person, play the fixture video through the device app, check every clip."""
    from pi_app.camera.video_file import VideoFileCamera
    from pi_app.runtime.device_app import DeviceApp, DeviceConfig
    from pi_app.runtime.events import read_events
    from pi_app.recording.motion_gate import MotionPolicy
    from pi_app.visits.tracking_skip import TrackingPolicy
    from pi_app.tools.run_check import check_run
    from pi_app.transport.stack_connection import connect
    from pi_app.runtime.stats import Stats
    from pi_app.tools.video_manifest import VideoManifest
    from pi_app.runtime.views import LiveView, PlainView
    from pi_app.transport.visit_reporter import VisitReporter
    from facegate_contract import default_outputs_path
    from recognizer.face_library.stack_access import StackAccess

    path = outputs or default_outputs_path()
    _wait_for(path, wait_s)
    stack = StackAccess.open(path, endpoint_url)
    name = _enrol(stack, fixtures / "images")
    work = Path(tempfile.mkdtemp(prefix="facegate-demo-"))
    device_file = _provision(stack.outputs, work / "demo-cam.json")
    developer = connect(outputs=path, endpoint_url=endpoint_url)
    try:
        _wait_until_model_is_live(developer.recognizer,
                                  (fixtures / "images" / "probe_eileen_collins.jpg").read_bytes(), name)
    finally:
        developer.close()

    manifest = VideoManifest.read(fixtures / "videos" / f"{video}.json")
    connection = connect(device_file=device_file)  # the device itself holds no AWS credentials
    # The demo checks every clip's answer against the manifest, so every clip is recognised: no motion gate, no
    # tracking skip of decided visits.
    config = DeviceConfig(device_id=connection.device_id, spool_dir=work / "spool", events_path=work / "events.jsonl",
                          clip_seconds=0.5, drain_timeout_s=60.0, motion=MotionPolicy(enabled=False),
                          tracking=TrackingPolicy(enabled=False))
    stats = Stats()
    plain = headless or not sys.stdout.isatty()
    view = PlainView() if plain else LiveView(stats, f"{manifest.video.name} · {connection.description}")
    reporter = VisitReporter(work / "visits", connection.report_visit,
                             bundle_of=config.upload.bundle_of(connection.device_id)).start()
    try:
        summary = DeviceApp(config, VideoFileCamera(manifest.video, realtime=True), connection.recognizer,
                            connection.uploader, view=view, stats=stats, sinks=[reporter]).run()
    finally:
        reporter.close(flush_timeout_s=30)
        connection.close()
    events = work / "events.jsonl"  # the path the config above was given
    check = check_run(read_events(events), manifest, config.clip_seconds)
    console.print(_report(check, manifest))
    latency = summary.get("latency_ms", {})
    console.print(f"clips {summary.get('clips')} · recognised {summary.get('recognised')} · unknown {summary.get('unknown')}"
                  f" · no face {summary.get('no_face')} · failures {summary.get('failures')}"
                  f" · latency p50 {latency.get('p50')} ms / p95 {latency.get('p95')} ms · uploaded {len(check.uploaded)}"
                  f" · kept on the device {len(check.kept)}")
    if not check.passed:
        console.print(f"[red]demo failed:[/] {len(check.mismatches)} clip(s) misrecognised, "
                      f"{len(check.not_stored)} lost, {len(check.faces_not_uploaded)} with a face not in S3 "
                      f"(events: {config.events_path})")
        raise typer.Exit(1)
    console.print(f"[green]demo passed:[/] all {len(check.clips)} clips recognised as the manifest says, "
                  "every visit's clips in S3")

