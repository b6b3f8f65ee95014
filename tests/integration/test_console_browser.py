"""The console in a real headless Chromium (Debian's `chromium`, driven by Playwright) against a real emulator stack
and a real device run of the demo video: log in, see the demo visit appear live, play its clip, enrol the stranger
from the review page, and see that person's next visit named.

The test deploys its own stack (prefix `fgconsole`, ~3 s on the emulator): it enrols and removes people, which must
not change what the other integration tests' model knows. `FACEGATE_CONSOLE_SCREENSHOTS=DIR` keeps a screenshot of
every page there (docs/console/ holds the README's).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from facegate_contract import StackOutputs
from facegate_rigs.device_run import run_device
from services import stack
from services.device_commands import provision
from services.target import Target
from tests.conftest import FIXTURE_IMAGES, ROOT

playwright_api = pytest.importorskip("playwright.sync_api", reason="the dev extra (playwright) is not installed")

PREFIX = "fgconsole"
PASSWORD = "console test password"
PERSON = "Eileen_Collins"
DEMO_VIDEO = ROOT / "fixtures" / "videos" / "demo.mp4"
CHROMIUM = os.environ.get("FACEGATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def console_stack(target: Target, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackOutputs, Path]]:
    """A stack of its own with the console password set at deploy (as `facegate deploy` sets it)."""
    stack.destroy(target, PREFIX)  # leftovers of an interrupted run
    image = os.environ.get("FACEGATE_TEST_RECOGNIZER_IMAGE", stack.recognizer_image.DEFAULT_LOCAL_IMAGE)
    result = stack.deploy(target, stack.DeployOptions(prefix=PREFIX, console_password=PASSWORD, image=image,
                                                      extra_environment={"FACEGATE_MODEL_REFRESH_S": "2"}))
    path = tmp_path_factory.mktemp("console-state") / "outputs.json"
    result.outputs.write(path)
    yield result.outputs, path
    stack.destroy(target, PREFIX)


@pytest.fixture(scope="module")
def console_url(console_stack: tuple[StackOutputs, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`facegate console` itself, as a user starts it (a separate process on 127.0.0.1)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("console-log") / "console.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "facegate_cli", "console", "--outputs", str(console_stack[1]),
                                    "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/login", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the console did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("FACEGATE_REQUIRE_DOCKER") == "1":
            pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, chromium_sandbox=False)
        yield chromium
        chromium.close()


class Shots:
    """Screenshots of each page: kept in FACEGATE_CONSOLE_SCREENSHOTS when set, else in the test's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page, name: str) -> None:  # noqa: ANN001 - a playwright Page
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)


def _wait_for_model(outputs: StackOutputs, name: str, timeout_s: float = 60) -> None:
    """Until the recognizer answers `name` for the held-out probe photo (it follows the model pointer every 2 s)."""
    probe = (FIXTURE_IMAGES / "probe_eileen_collins.jpg").read_bytes()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = requests.post(outputs.recognize_url, data=probe, timeout=60,
                               headers={"Content-Type": "image/jpeg", "x-api-key": outputs.api_key}).json()
        if name in [f.get("name") for f in answer.get("faces", [])]:
            return
        time.sleep(1)
    pytest.fail(f"the recognizer never named {name} after the enrolment")


def test_log_in_watch_the_demo_visit_enrol_the_stranger_and_see_them_named(
        console_stack: tuple[StackOutputs, Path], console_url: str, browser, target: Target, tmp_path: Path) -> None:
    outputs, _ = console_stack
    shots = Shots(Path(os.environ.get("FACEGATE_CONSOLE_SCREENSHOTS") or tmp_path / "shots"))
    device_file = tmp_path / "demo-cam.json"
    provision(target, PREFIX, "demo-cam").write(device_file)
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    page = context.new_page()
    media_requests: list[str] = []
    page.on("request", lambda request: media_requests.append(request.url) if request.resource_type == "media" else None)
    expect = playwright_api.expect

    # Log in: every page sends an anonymous browser to the login page first.
    page.goto(f"{console_url}/visits")
    expect(page).to_have_url(f"{console_url}/login?next=%2Fvisits")
    shots.take(page, "login")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".flash.error")).to_contain_text("Wrong password")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{console_url}/visits")
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["facegate_console"]["httpOnly"] and cookies["facegate_console"]["sameSite"] == "Strict"

    # The demo video through the real device app: nobody is enrolled in this stack, so the demo person is a stranger.
    first = run_device(device_file, DEMO_VIDEO, tmp_path / "run1", realtime=False)
    assert first.summary["failures"] == 0 and first.summary["pending"] == 0
    # ...and the visit appears on the open timeline by itself (the live refresh), no reload.
    unknown_row = page.locator("tr.visit[data-decision=unknown]").first
    expect(unknown_row).to_be_visible(timeout=30_000)
    expect(unknown_row.locator("td.face img")).to_have_js_property("complete", True)
    shots.take(page, "visits")
    assert outputs.api_key not in page.content()

    # Its clip plays: a WebM copy of the device's mp4v clip, from S3 through a presigned URL.
    unknown_row.locator("a").first.click()
    video = page.locator("video#clip")
    expect(video).to_be_visible()
    page.wait_for_function("() => { const v = document.querySelector('video#clip');"
                           " return v && v.readyState >= 2 && v.currentTime > 0 && v.videoWidth > 0; }", timeout=30_000)
    assert video.evaluate("v => v.currentSrc").startswith(f"{console_url}/clips/play?key=")  # redirected to S3:
    from_s3 = [u for u in media_requests if u.startswith(f"{outputs.endpoint_url}/{outputs.bucket}/clips/demo-cam/")]
    assert from_s3 and all(".webm?" in u and "X-Amz-Signature=" in u for u in from_s3), media_requests
    assert video.evaluate("v => [v.videoWidth, v.videoHeight, v.error]") == [640, 480, None]
    shots.take(page, "visit")

    # Review strangers: the demo person's faces form one group; "this is Eileen_Collins" enrols them.
    page.click("nav >> text=Strangers")
    group = page.locator("section.stranger").first
    expect(group).to_be_visible(timeout=60_000)  # the first review embeds the faces
    shots.take(page, "strangers")
    group.locator("input[name=name]").fill(PERSON)
    group.locator("form.enrol button").click()
    expect(page.locator(".flash.ok")).to_contain_text(f"Enrolled {PERSON}", timeout=60_000)
    _wait_for_model(outputs, PERSON)

    # The face library shows her, with the faces she was enrolled from.
    page.click("nav >> text=Face library")
    expect(page.locator(f"tr[data-person={PERSON}]")).to_contain_text("yes")
    shots.take(page, "people")
    page.click(f"tr[data-person={PERSON}] a")
    expect(page.locator('img[alt="enrolment photo"]').first).to_be_visible()
    shots.take(page, "person")

    # Her next visit is named: the demo video again through the device, watched on the live timeline.
    page.click("nav >> text=Visits")
    second = run_device(device_file, DEMO_VIDEO, tmp_path / "run2", realtime=False)
    assert second.summary["failures"] == 0
    named = page.locator(f"tr.visit[data-decision={PERSON}]").first
    expect(named).to_be_visible(timeout=30_000)
    expect(page.locator("tr.visit[data-decision=unknown] td:last-child").first).to_have_text(PERSON)  # reviewed
    shots.take(page, "visits-named")
    context.close()

