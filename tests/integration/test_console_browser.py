"""The console in a real headless Chromium (Debian's `chromium`, driven by Playwright) against a real emulator stack
and a real device run of the demo video: log in, see the demo visit appear live (with its thumbnail at first paint),
play the whole visit as one film and download it, enrol the stranger from a chosen subset of faces after a confirm
step, see that person's next visit named and a visit whose clips are gone say why, undo the enrolment; then every page at a phone's
size (390x844) without sideways scrolling, and every page passing axe-core's WCAG A/AA rules at both sizes. "Show
faces" draws the boxes and names of the clip on screen over the film, and hides them again.

Confirm mode through the browser: a device's actions (fake-rpi pins, `door_mode = "confirm"`) file door requests
through the stack's API; the operator sees who, when and the face, and clicks Approve (the relay opens exactly once),
Deny (it never opens); a request nobody decides expires and never opens it either.

The test deploys its own stack (prefix `fgconsole`, ~3 s on the emulator): it enrols and removes people, which must
not change what the other integration tests' model knows. `FACEGATE_CONSOLE_SCREENSHOTS=DIR` keeps a screenshot of
every page there (docs/console/ holds the README's).
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import cv2
import pytest
import requests

from facegate_contract import StackOutputs
from facegate_contract.device_events import VisitAction, VisitDecided
from facegate_rigs.device_run import run_device
from pi_app.transport.stack_connection import StackConnection, connect
from services import stack
from services.device_commands import provision
from services.target import Target
from services.visit_log import get_visit
from tests.conftest import FIXTURE_IMAGES, ROOT
from tests.integration.test_door_confirm import rules
from tests.unit.console_support import demo_frames, write_mp4v
from tests.unit.pi_actions_support import ActionsRig, eileen

playwright_api = pytest.importorskip("playwright.sync_api", reason="the dev extra (playwright) is not installed")
axe_api = pytest.importorskip("axe_playwright_python.sync_playwright", reason="the dev extra (axe) is not installed")

PREFIX = "fgconsole"
PASSWORD = "console test password"
PERSON = "Eileen_Collins"
DEMO_VIDEO = ROOT / "fixtures" / "videos" / "demo.mp4"
CHROMIUM = os.environ.get("FACEGATE_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
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


def accessibility_violations(page) -> list[str]:  # noqa: ANN001 - a playwright Page
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now: "rule (impact): first target"."""
    found = axe_api.Axe().run(page, options=WCAG_AA).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in found]


def check_page(page, name: str, shots: "Shots | None", problems: list[str], width: int) -> None:  # noqa: ANN001
    """No sideways scrolling at `width`, no WCAG A/AA violation; a screenshot unless `shots` is None."""
    page.wait_for_load_state("load")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        problems.append(f"{name} at {width} px is {scroll} px wide")
    problems.extend(f"{name} at {width} px: {v}" for v in accessibility_violations(page))
    if shots is not None:
        shots.take(page, name)


class Shots:
    """Screenshots of each page: kept in FACEGATE_CONSOLE_SCREENSHOTS when set, else in the test's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page, name: str) -> None:  # noqa: ANN001 - a playwright Page
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)


def show_faces(page, name: str, shots: Shots, problems: list[str], width: int) -> None:  # noqa: ANN001
    """On a visit page whose film has played: "Show faces" is off and draws nothing; on, every face of the clip on
    screen is a box inside the picture with its name; off again, they are gone."""
    expect = playwright_api.expect
    switch = page.get_by_label("Show faces")
    boxes = page.locator("#film .film-faces .face-box")
    expect(switch).not_to_be_checked()
    assert boxes.count() == 0
    shown = page.evaluate("(() => { const f = window.facegateFilm;"
                          " return JSON.parse(document.getElementById('film').dataset.clips)[f.index].faces; })()")
    assert shown and all(f["name"] for f in shown), shown
    switch.check()
    expect(boxes).to_have_count(len(shown))
    expect(boxes.first).to_be_visible()
    assert sorted(boxes.all_inner_texts()) == sorted(f["name"] for f in shown)
    video = page.locator("#film video:not([hidden])").bounding_box()
    for i in range(len(shown)):
        face = boxes.nth(i).bounding_box()
        assert video and face and face["width"] > 4 and face["height"] > 4, (video, face)
        for start, size in (("x", "width"), ("y", "height")):  # within the picture, to half a pixel
            assert video[start] - 0.5 <= face[start] and face[start] + face[size] <= video[start] + video[size] + 0.5, \
                (video, face)
    check_page(page, name, shots, problems, width)
    switch.uncheck()
    expect(page.locator("#film .film-faces")).to_be_hidden()
    assert boxes.count() == 0


def stack_model_labels(target: Target, outputs: StackOutputs) -> list[str] | None:
    """The people the stack's current model knows (None before any model)."""
    from facegate_contract import MODELS_PREFIX
    from recognizer.classify.artifact_store import S3ArtifactStore

    current = S3ArtifactStore(target.client("s3"), outputs.bucket, MODELS_PREFIX).load_current()
    return current.classifier.labels if current else None


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
    # The device's default upload policy: the visit's clips went up in its bundle; the film below is made of its
    # members.
    bundled = {key for bundle in first.of("bundle_uploaded") for key in bundle.keys}
    assert bundled and all(set(v.keys) <= bundled | {u.key for u in first.of("upload")} for v in first.of("visit_ended"))
    # ...and the visit appears on the open timeline by itself (the live refresh), no reload.
    unknown_row = page.locator("tr.visit[data-decision=unknown]").first
    expect(unknown_row).to_be_visible(timeout=30_000)
    # A face, not a grey box: it may come once the visit's bundle has landed (the page asks again until then).
    page.wait_for_function("() => { const img = document.querySelector('tr.visit[data-decision=unknown] td.face img');"
                           " return img && img.complete && img.naturalWidth > 0; }", timeout=60_000)
    shots.take(page, "visits")
    assert outputs.api_key not in page.content()

    # The whole visit plays as one film: its clips back to back (WebM copies of the device's mp4v clips, from S3
    # through presigned URLs), the played time summed across clips reaching the sum of their durations.
    problems: list[str] = []
    check_page(page, "visits", None, problems, 1280)
    unknown_row.locator("td.when a").click()
    expect(page.locator("#film video").first).to_be_visible()
    clips = page.evaluate("JSON.parse(document.getElementById('film').dataset.clips).length")
    page.wait_for_function("() => window.facegateFilm && window.facegateFilm.done", timeout=120_000)
    film = page.evaluate("window.facegateFilm")
    assert film["failed"] == [] and len(film["played"]) == clips > 1, film
    assert sum(film["played"]) >= sum(film["durations"]) - 1e-3 and sum(film["durations"]) >= 0.4 * clips, film
    gaps = sorted(film["gaps"])
    print(f"\nfilm: {clips} clips, {sum(film['durations']):.2f} s played; gap between clips median "
          f"{gaps[len(gaps) // 2]:.0f} ms, max {gaps[-1]:.0f} ms")
    from_s3 = [u for u in media_requests if u.startswith(f"{outputs.endpoint_url}/{outputs.bucket}/clips/demo-cam/")]
    assert from_s3 and all(".webm?" in u and "X-Amz-Signature=" in u for u in from_s3), media_requests
    assert page.locator("#film video:not([hidden])").evaluate("v => [v.videoWidth, v.videoHeight, v.error]") == \
        [640, 480, None]
    download = page.request.get(console_url + page.locator("a[download]").get_attribute("href"))
    assert download.status == 200 and download.headers["content-type"] == "video/webm" and len(download.body()) > 10_000
    shots.take(page, "visit")
    check_page(page, "visit", None, problems, 1280)
    show_faces(page, "visit-faces", shots, problems, 1280)
    visit_url = page.url

    # Review strangers: the demo person's faces form one group; "this is Eileen_Collins" enrols them.
    page.click("nav >> text=Strangers")
    group = page.locator("section.stranger").first
    expect(group).to_be_visible(timeout=60_000)  # the first review embeds the faces
    shots.take(page, "strangers")
    # a chosen subset: one face left out, then the confirm step names how many faces and who
    picks = group.locator("input[name=face]")
    chosen = picks.count() - 1
    assert chosen >= 1
    picks.last.uncheck()
    group.locator("input[name=name]").fill(PERSON)
    group.locator("form.enrol button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(f"Enrol {chosen} face(s) as {PERSON}?", timeout=60_000)
    check_page(page, "strangers-confirm", shots, problems, 1280)
    page.click(f"form.confirm >> text=Enrol {PERSON}")
    expect(page.locator(".flash.ok")).to_contain_text(f"Enrolled {PERSON} from", timeout=60_000)
    expect(page.locator("section.undo button")).to_be_visible()
    _wait_for_model(outputs, PERSON)

    # The face library shows her, with the faces she was enrolled from.
    page.click("nav >> text=Face library")
    expect(page.locator(f"tr[data-person={PERSON}]")).to_contain_text("yes")
    shots.take(page, "people")
    page.click(f"tr[data-person={PERSON}] a")
    expect(page.locator('img[alt^="enrolment photo"]').first).to_be_visible()
    shots.take(page, "person")

    # Her next visit is named: the demo video again through the device, watched on the live timeline.
    page.click("nav >> text=Visits")
    second = run_device(device_file, DEMO_VIDEO, tmp_path / "run2", realtime=False)
    assert second.summary["failures"] == 0
    named = page.locator(f"tr.visit[data-decision={PERSON}]").first
    expect(named).to_be_visible(timeout=30_000)
    expect(page.locator("tr.visit[data-decision=unknown] td:last-child").first).to_have_text(PERSON)  # reviewed
    shots.take(page, "visits-named")

    # A visit whose clips are gone says why instead of an empty player.
    visit_id = named.get_attribute("data-visit")
    record = get_visit(target.resource("dynamodb").Table(outputs.sightings_table), visit_id)
    s3 = target.client("s3")
    assert record is not None and record.bundle  # its clips went up in the visit's bundle
    for key in record.keys + [record.bundle]:
        s3.delete_object(Bucket=outputs.bucket, Key=key)
    page.goto(f"{console_url}/visits/{visit_id}")
    # A visit of a minute ago without its bundle: the device may still be sending it (an older one: expired).
    expect(page.locator(".player .missing")).to_contain_text("being uploaded")
    assert page.locator("#film").count() == 0

    # The enrolment is undone: she is out of the model again and her first visit is back to review.
    page.goto(f"{console_url}/strangers")
    page.click("section.undo button")
    expect(page.locator(".flash.ok")).to_contain_text(f"Undid the enrolment of {PERSON}")
    expect(page.locator("section.stranger").first).to_be_visible(timeout=60_000)
    assert PERSON not in (stack_model_labels(target, outputs) or [])

    # Every page at a phone's size: no sideways scrolling, "Log out" on screen, no WCAG A/AA violation.
    phone = browser.new_context(viewport=PHONE)
    phone_page = phone.new_page()
    phone_page.goto(f"{console_url}/login")
    check_page(phone_page, "phone-login", shots, problems, PHONE["width"])
    phone.add_cookies(context.cookies())
    for name, path in [("phone-visits", "/visits"), ("phone-visit", visit_url.removeprefix(console_url)),
                       ("phone-no-match", "/visits?name=nobody"), ("phone-strangers", "/strangers"),
                       ("phone-people", "/people"), ("phone-person", f"/people/{PERSON}")]:
        phone_page.goto(f"{console_url}{path}")
        box = phone_page.locator("header .logout button").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
        check_page(phone_page, name, shots, problems, PHONE["width"])
    phone_page.goto(visit_url)
    phone_page.wait_for_function("() => window.facegateFilm && window.facegateFilm.done", timeout=120_000)
    show_faces(phone_page, "phone-visit-faces", shots, problems, PHONE["width"])
    for name, path in [("strangers-desktop", "/strangers"), ("people-desktop", "/people"),
                       ("person-desktop", f"/people/{PERSON}")]:
        page.goto(f"{console_url}{path}")
        check_page(page, name, None, problems, 1280)
    assert problems == []
    phone.close()
    context.close()


# ---- confirm mode through the browser ------------------------------------------------------------------------------
DOOR_DEVICE = "door-console"


def _log_in(page, console_url: str) -> None:  # noqa: ANN001 - a playwright Page
    page.goto(f"{console_url}/login")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    playwright_api.expect(page).to_have_url(f"{console_url}/visits")


def _demo_clip(outputs: StackOutputs, folder: Path) -> tuple[bytes, dict[str, float]]:
    """A clip of the demo video as a device records it (mp4v, her face in its recognised frame, index 5) and that
    face's box as the stack's recognizer finds it."""
    frames = demo_frames()[20:30]
    path = folder / "door-clip.mp4"
    write_mp4v(path, frames)
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(frames[5], cv2.COLOR_RGB2BGR))[1].tobytes()
    answer = requests.post(outputs.recognize_url, data=jpeg, timeout=60,
                           headers={"Content-Type": "image/jpeg", "x-api-key": outputs.api_key}).json()
    boxes = [f["box"] for f in answer.get("faces", [])]
    assert boxes, answer
    return path.read_bytes(), max(boxes, key=lambda b: (b["x2"] - b["x1"]) * (b["y2"] - b["y1"]))


class ConfirmDoor:
    """A confirm-mode device's actions (fake-rpi pins) seeing Eileen_Collins: the visit is reported and its clips are
    in the bucket as the device would have put them, and a door request is filed through the stack's API."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path, connection: StackConnection, target: Target,
                 outputs: StackOutputs, clip: tuple[bytes, dict[str, float]], timeout_s: int) -> None:
        body, box = clip
        self.rig = ActionsRig(monkeypatch, folder, rules(timeout_s), door_requests=connection.door_requests,
                              device=DOOR_DEVICE)
        self.rig.actions.confirmer.poll_s = 0.3  # an operator's pace: the rig's 20 ms would hammer the emulator
        face = {**eileen(), "box": box}
        self.rig.clips(face, face)
        decided = next(e for e in self.rig.events if isinstance(e, VisitDecided))
        for key in decided.keys:
            target.client("s3").put_object(Bucket=outputs.bucket, Key=key, Body=body, ContentType="video/mp4",
                                           Metadata={"codec": "mp4v", "frame-index": "5", "device": DOOR_DEVICE})
        connection.report_visit(decided.report())
        self.visit_id = decided.visit_id
        asked = [e for e in self.rig.events if isinstance(e, VisitAction) and e.door_reason == "asked"]
        assert len(asked) == 1 and asked[0].door_request, self.rig.events
        self.request_id: str = asked[0].door_request

    def outcome(self, within_s: float) -> VisitAction:
        """How the request ended on the device (waits for it)."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            done = [e for e in self.rig.events if isinstance(e, VisitAction) and e.rule == "door_request"
                    and e.door_reason != "asked"]
            if done:
                return done[0]
            time.sleep(0.05)
        raise AssertionError(f"the door request {self.request_id} never ended: {self.rig.events}")

    def close(self) -> None:
        self.rig.actions.close()


def _pending_card(page, console_url: str, door: ConfirmDoor):  # noqa: ANN001, ANN202 - playwright objects
    """The door requests page, reloaded until this door's request shows there (pending)."""
    card = page.locator("article.door-request", has=page.locator(f'a[href="/door-requests/{door.request_id}"]'))
    deadline = time.monotonic() + 30
    while True:
        page.goto(f"{console_url}/door-requests")
        if card.count() == 1:
            break
        assert time.monotonic() < deadline, f"the request never showed in the console: {door.rig.events}"
        time.sleep(0.5)
    playwright_api.expect(card).to_have_class(re.compile(r"\bpending\b"))
    return card


def test_a_door_request_approved_in_the_browser_opens_the_door_once_and_a_denial_or_timeout_never(
        console_stack: tuple[StackOutputs, Path], console_url: str, browser, target: Target,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    outputs, _ = console_stack
    expect = playwright_api.expect
    device_file = tmp_path / f"{DOOR_DEVICE}.json"
    provision(target, PREFIX, DOOR_DEVICE).write(device_file)
    connection = connect(device_file=device_file)
    clip = _demo_clip(outputs, tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    page = context.new_page()
    _log_in(page, console_url)
    shots = Shots(Path(os.environ.get("FACEGATE_CONSOLE_SCREENSHOTS") or tmp_path / "shots"))
    problems: list[str] = []
    try:
        # Approve: the pending request shows who, where, when and the face; one click opens the door exactly once.
        door = ConfirmDoor(monkeypatch, tmp_path / "approve", connection, target, outputs, clip, timeout_s=90)
        card = _pending_card(page, console_url, door)
        expect(card.locator("h2")).to_have_text(f"Eileen_Collins at {DOOR_DEVICE}")
        expect(card).to_contain_text("Pending")
        asked = card.locator("time").get_attribute("datetime")
        assert asked and abs(datetime.fromisoformat(asked.replace("Z", "+00:00")).timestamp() - time.time()) < 120
        face = card.locator('img[alt="face of Eileen_Collins at the door"]')
        expect(face).to_have_js_property("complete", True)
        assert face.evaluate("img => img.naturalWidth") > 0  # her face cut from the clip, not a broken image
        check_page(page, "door-requests", shots, problems, 1280)
        card.get_by_role("button", name="Approve: open the door").click()
        expect(page.locator(".flash.ok")).to_contain_text(
            f"Approved: the door at {DOOR_DEVICE} opens for Eileen_Collins")
        outcome = door.outcome(30)
        time.sleep(1.0)  # a second opening would show by now (the device polls every 0.3 s)
        door.close()
        assert (outcome.door, outcome.door_reason, outcome.door_request) == (True, "approved", door.request_id)
        assert len(door.rig.door_openings) == 1, door.rig.writes
        expect(page.locator("article.door-request.approved")).to_contain_text("Approved")
        assert page.get_by_role("button", name="Approve: open the door").count() == 0  # decided once, for good

        # Deny, from the request's own page (an alert links there), checked at a phone's size first.
        door = ConfirmDoor(monkeypatch, tmp_path / "deny", connection, target, outputs, clip, timeout_s=90)
        _pending_card(page, console_url, door)
        phone = browser.new_context(viewport=PHONE)
        phone.add_cookies(context.cookies())
        phone_page = phone.new_page()
        for name, path in [("phone-door-requests", "/door-requests"),
                           ("phone-door-request", f"/door-requests/{door.request_id}")]:  # pending: widest
            phone_page.goto(f"{console_url}{path}")
            expect(phone_page.get_by_role("button", name="Deny").first).to_be_visible()
            check_page(phone_page, name, shots, problems, PHONE["width"])
        phone.close()
        page.goto(f"{console_url}/door-requests/{door.request_id}")
        check_page(page, "door-request", None, problems, 1280)
        page.get_by_role("button", name="Deny").click()
        expect(page.locator(".flash.ok")).to_contain_text(f"Denied: the door at {DOOR_DEVICE} stays shut")
        outcome = door.outcome(30)
        time.sleep(1.0)
        door.close()
        assert (outcome.door, outcome.door_reason) == (False, "denied")
        assert door.rig.door_openings == [], door.rig.writes

        # Nobody decides: the request expires, the door never opens and the console no longer offers Approve.
        door = ConfirmDoor(monkeypatch, tmp_path / "timeout", connection, target, outputs, clip, timeout_s=5)
        outcome = door.outcome(20)
        door.close()
        assert (outcome.door, outcome.door_reason) in ((False, "timeout"), (False, "expired"))
        assert door.rig.door_openings == [], door.rig.writes
        expired = page.locator("article.door-request.expired")
        deadline = time.monotonic() + 15  # the device's deadline runs out just before the API's expiry
        while True:
            page.goto(f"{console_url}/door-requests/{door.request_id}")
            if expired.count() == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        expect(expired).to_contain_text("Expired: nobody decided in time")
        assert page.get_by_role("button", name="Approve: open the door").count() == 0
        assert problems == []
    finally:
        connection.close()
        context.close()
