"""`facegate demo`: the main job against a deployed stack — enrol the demo people from the bundled
fixtures, send the fixture frames through the API, show what came back, and exit 0 only if every
frame was recognised as its manifest says."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

console = Console()

DEFAULT_FIXTURES = Path("fixtures/images")


def _wait_for(path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise typer.BadParameter(f"no deploy outputs at {path}: run `facegate deploy` first", param_hint="--outputs")
        time.sleep(1)


def demo(
    outputs: Annotated[Optional[Path], typer.Option(help="Deploy outputs file (default .facegate/outputs.json).")] = None,
    endpoint_url: Annotated[Optional[str], typer.Option("--endpoint-url", envvar="FACEGATE_ENDPOINT_URL",
                                                        help="Reach the emulator here instead of the outputs' URL.")] = None,
    fixtures: Annotated[Path, typer.Option(exists=True, file_okay=False, help="Folder with manifest.json.")] = DEFAULT_FIXTURES,
    wait_s: Annotated[float, typer.Option(help="How long to wait for the outputs file.")] = 60.0,
) -> None:
    """Enrol the fixture people, recognise the fixture frames through the API, check the answers."""
    from pi_app.recognize_client import RecognizeClient
    from recognizer.artifact_store import S3ArtifactStore
    from recognizer.enrolment import enroll
    from recognizer.pipeline import FacePipeline
    from services.clip_bucket import MODELS_PREFIX
    from services.outputs import StackOutputs, default_outputs_path
    from services.target import target_for_outputs

    path = outputs or default_outputs_path()
    _wait_for(path, wait_s)
    stack = StackOutputs.read(path).seen_from(endpoint_url)
    target = target_for_outputs(stack.endpoint_url, stack.region)
    manifest = json.loads((fixtures / "manifest.json").read_text())

    with console.status("loading the face pipeline…"):
        pipeline = FacePipeline.load("dlib")
    store = S3ArtifactStore(target.client("s3"), stack.bucket, MODELS_PREFIX)
    people = target.session.resource("dynamodb", endpoint_url=target.endpoint_url).Table(stack.people_table)
    for name, files in manifest["enrol"].items():
        result = enroll(pipeline, store, people, name, [fixtures / f for f in files])
        console.print(f"enrolled [bold]{name}[/] from {result.images_used} photos → model {result.version}")

    client = RecognizeClient(stack.recognize_url, stack.api_key, device_id="demo")
    table = Table(title=f"recognitions via {stack.recognize_url}")
    for column in ("frame", "expected", "recognised", "confidence", "details", "latency ms", "ok"):
        table.add_column(column)
    failures = 0
    for frame in manifest["frames"]:
        body = (fixtures / frame["file"]).read_bytes()
        answer = _recognise_until_model_is_live(client, body, frame["expect"])
        ok = answer.names == frame["expect"]
        failures += not ok
        first = answer.faces[0] if answer.faces else {}
        details = first.get("details") or {}
        table.add_row(frame["file"], ", ".join(frame["expect"]) or "(no face)", ", ".join(answer.names) or "(no face)",
                      f"{first['confidence']:.2f}" if first else "-",
                      ", ".join(f"{k}={v}" for k, v in details.items() if k in ("name", "major", "year")) or "-",
                      f"{answer.latency_ms:.0f}", "[green]yes[/]" if ok else "[red]no[/]")
    console.print(table)
    if failures:
        console.print(f"[red]demo failed: {failures} frame(s) not recognised as expected[/]")
        raise typer.Exit(1)
    console.print("[green]demo passed: every frame recognised as expected[/]")


def _recognise_until_model_is_live(client, body: bytes, expect: list[str], timeout_s: float = 45.0):
    # A warm Lambda picks up a newly published model within its refresh period (15 s by default).
    deadline = time.monotonic() + timeout_s
    while True:
        answer = client.recognize(body)
        if answer.names == expect or time.monotonic() > deadline:
            return answer
        time.sleep(2)


def register(app: typer.Typer) -> None:
    """Attach the demo command to the root CLI."""
    app.command()(demo)
