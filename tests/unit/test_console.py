"""The web console through FastAPI's TestClient, on an in-memory AWS with the real modules: login and its guards,
the timeline, clips made playable, strangers grouped and enrolled, the face library's add / replace / remove."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the console extra is not installed")
pytest.importorskip("moto", reason="the dev extra (moto) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from facegate_cli.console import auth  # noqa: E402
from facegate_cli.console.app import create_app  # noqa: E402
from facegate_cli.console.backend import ConsoleBackend, presigner_for  # noqa: E402
from facegate_cli.console.clip_media import web_key  # noqa: E402
from recognizer.image_decode import load_rgb  # noqa: E402
from services.visit_log import get_visit  # noqa: E402
from tests.conftest import FIXTURE_IMAGES  # noqa: E402
from tests.unit.console_support import (API_KEY, AWS_SECRET, PASSWORD, FakeStack,  # noqa: E402
                                        demo_frames, open_fake_stack)

NOW = time.time()
PAGES = ["/", "/visits", "/visits/rows", "/visits/20261129T100000.000Z-00000001", "/strangers", "/people",
         "/people/Eileen_Collins", "/people/Eileen_Collins/photos/x.jpg", "/clips/play?key=clips/d/2026/11/29/x.mp4",
         "/faces?token=x", "/footage", "/footage/20261129T100000.000Z-00000001"]
FORMS = ["/strangers/enrol", "/strangers/ignore", "/people", "/people/Eileen_Collins/photos",
         "/people/Eileen_Collins/details", "/people/Eileen_Collins/remove", "/footage"]


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return demo_frames()


@pytest.fixture(scope="session")
def face_pipeline() -> Any:
    from recognizer.pipeline import FacePipeline

    return FacePipeline.load("dlib")


@pytest.fixture
def fake_stack(mocked_aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, face_pipeline: Any) -> FakeStack:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)  # a recognisable secret: the logs are searched for it
    return open_fake_stack(tmp_path, face_pipeline)


@pytest.fixture
def backend(fake_stack: FakeStack, face_pipeline: Any) -> ConsoleBackend:
    return ConsoleBackend(fake_stack.access, presigner_for(fake_stack.access, None),
                          pipeline_loader=lambda backend: face_pipeline)


@pytest.fixture
def client(backend: ConsoleBackend) -> TestClient:
    return TestClient(create_app(backend), base_url="http://127.0.0.1:8080", follow_redirects=False)


def csrf_of(client: TestClient, path: str = "/login") -> str:
    match = re.search(rf'name="{auth.CSRF_FIELD}" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client: TestClient, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"password": password, "next": "/visits", auth.CSRF_FIELD: csrf_of(client)})


def eileen_visit(stack: FakeStack, frames: list[np.ndarray], at: float, decision: str = "unknown",
                 device: str = "demo-cam") -> str:
    """A visit of the demo person: two clips of the demo video where she is on screen."""
    clips = [stack.add_clip(device, frames[20:30], 5, at), stack.add_clip(device, frames[40:50], 4, at + 0.5)]
    return stack.add_visit(device, decision, clips, at)


# ---- access ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_login(client: TestClient, path: str) -> None:
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    assert client.get(path, headers={"Accept": "application/json"}).status_code == 401


@pytest.mark.parametrize("path", FORMS)
def test_every_form_needs_a_login(client: TestClient, path: str) -> None:
    token = csrf_of(client)
    assert client.post(path, data={auth.CSRF_FIELD: token}).status_code == 401


def test_the_login_page_and_static_files_are_public(client: TestClient) -> None:
    assert client.get("/login").status_code == 200
    assert client.get("/static/console.css").status_code == 200
    assert client.get("/static/console.js").status_code == 200


def test_a_wrong_password_is_refused_and_the_right_one_opens_a_strict_httponly_session(client: TestClient) -> None:
    wrong = log_in(client, "not the password")
    assert wrong.status_code == 401 and "Wrong password" in wrong.text
    right = log_in(client)
    assert right.status_code == 303 and right.headers["location"] == "/visits"
    cookie = right.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert PASSWORD not in cookie
    assert client.get("/visits").status_code == 200


def test_a_form_without_the_sessions_csrf_token_is_refused(client: TestClient) -> None:
    log_in(client)
    assert client.post("/strangers/ignore", data={"visit": "x"}).status_code == 403
    assert client.post("/strangers/ignore", data={"visit": "x", auth.CSRF_FIELD: "forged-token-xxxxxxxxxxxx"}).status_code == 403
    assert client.post("/login", data={"password": PASSWORD}).status_code == 403


def test_guessing_is_braked(backend: ConsoleBackend) -> None:
    client = TestClient(create_app(backend, throttle=auth.LoginThrottle(limit=3, lock_s=60)), base_url="http://127.0.0.1",
                        follow_redirects=False)
    assert [log_in(client, f"guess-{i}").status_code for i in range(3)] == [401, 401, 401]
    assert log_in(client).status_code == 429  # even the right password waits


def test_a_new_password_ends_the_old_sessions(client: TestClient, backend: ConsoleBackend, fake_stack: FakeStack) -> None:
    from services import console_login

    log_in(client)
    assert client.get("/visits").status_code == 200
    console_login.store_login(fake_stack.s3, fake_stack.outputs.bucket, console_login.hash_password("another password"))
    backend._login = None  # the console re-reads the login every 30 s; do it now
    assert client.get("/visits", headers={"Accept": "text/html"}).status_code == 303


def test_only_local_paths_are_followed_after_login() -> None:
    assert auth.safe_next("/people") == "/people"
    assert auth.safe_next("//evil.example/x") == "/visits"
    assert auth.safe_next("https://evil.example/") == "/visits"


def test_no_page_shows_the_api_key_or_aws_credentials(client: TestClient, fake_stack: FakeStack,
                                                      frames: list[np.ndarray]) -> None:
    visit = eileen_visit(fake_stack, frames, NOW - 60)
    log_in(client)
    for path in ["/visits", "/visits/rows", f"/visits/{visit}", "/strangers", "/people", "/login"]:
        page = client.get(path)
        assert page.status_code == 200, path
        for secret in (API_KEY, AWS_SECRET, PASSWORD):
            assert secret not in page.text, f"{path} shows a secret"
        assert page.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in page.headers["content-security-policy"]


# ---- visits and clips ------------------------------------------------------------------------------------------------
def test_the_timeline_lists_visits_newest_first_with_their_face(client: TestClient, fake_stack: FakeStack,
                                                                frames: list[np.ndarray]) -> None:
    older = eileen_visit(fake_stack, frames, NOW - 600, decision="Eileen_Collins")
    newer = eileen_visit(fake_stack, frames, NOW - 60)
    log_in(client)
    rows = client.get("/visits/rows").text
    assert rows.index(newer) < rows.index(older)
    assert 'data-decision="Eileen_Collins"' in rows and 'data-decision="unknown"' in rows
    face = re.search(r'src="(/faces\?[^"]+)"', rows).group(1).replace("&amp;", "&")
    image = client.get(face)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR) is not None
    filtered = client.get("/visits/rows", params={"name": "Eileen_Collins"}).text
    assert older in filtered and newer not in filtered


def test_a_clip_plays_as_webm_from_a_presigned_url(client: TestClient, fake_stack: FakeStack,
                                                   frames: list[np.ndarray], tmp_path: Path) -> None:
    visit = eileen_visit(fake_stack, frames, NOW - 60)
    log_in(client)
    page = client.get(f"/visits/{visit}")
    assert page.status_code == 200 and "<video" in page.text
    play = re.search(r'"src": "(/clips/play[^"]+)"', page.text).group(1)  # the visit's first clip
    redirect = client.get(play)
    assert redirect.status_code == 303
    url = redirect.headers["location"]
    assert ".webm" in url and "X-Amz-Signature=" in url
    key = get_visit(fake_stack.access.table(fake_stack.outputs.sightings_table), visit).keys[0]
    stored = fake_stack.s3.get_object(Bucket=fake_stack.outputs.bucket, Key=web_key(key))
    assert stored["ContentType"] == "video/webm"
    copy = tmp_path / "copy.webm"
    copy.write_bytes(stored["Body"].read())
    capture = cv2.VideoCapture(str(copy))
    decoded = 0
    while capture.read()[0]:
        decoded += 1
    assert decoded == 10  # every frame of the clip
    assert client.get(play).headers["location"].split("?")[0] == url.split("?")[0]  # made once, then reused


def test_a_clip_in_a_browser_codec_is_linked_as_it_is(client: TestClient, fake_stack: FakeStack,
                                                      frames: list[np.ndarray]) -> None:
    key, _ = fake_stack.add_clip("demo-cam", frames[20:30], 5, NOW)
    fake_stack.s3.copy_object(Bucket=fake_stack.outputs.bucket, Key=key, CopySource={"Bucket": fake_stack.outputs.bucket, "Key": key},
                              Metadata={"codec": "avc1"}, MetadataDirective="REPLACE")
    log_in(client)
    location = client.get("/clips/play", params={"key": key}).headers["location"]
    assert location.split("?")[0].endswith(".mp4")


def test_a_missing_clip_is_a_404(client: TestClient) -> None:
    log_in(client)
    assert client.get("/clips/play", params={"key": "clips/demo-cam/2026/11/29/20261129T100000.000Z-000001.mp4"}).status_code == 404
    assert client.get("/clips/play", params={"key": "../../console/login.json"}).status_code == 404


# ---- strangers --------------------------------------------------------------------------------------------------------
def test_strangers_are_grouped_enrolled_and_named_after(client: TestClient, backend: ConsoleBackend,
                                                        fake_stack: FakeStack, frames: list[np.ndarray]) -> None:
    first, second = eileen_visit(fake_stack, frames, NOW - 900), eileen_visit(fake_stack, frames, NOW - 300)
    log_in(client)
    page = client.get("/strangers").text
    assert page.count("data-group=") == 1  # the same face in two visits: one stranger
    form = re.search(r'<form method="get" action="/strangers/confirm".*?</form>', page, re.S).group(0)
    faces = re.findall(r'name="face" value="([^"]+)"', form)
    visits = re.findall(r'name="visit" value="([^"]+)"', form)
    assert len(faces) == 4 and sorted(visits) == sorted([first, second])
    answer = client.post("/strangers/enrol", data={"name": "Eileen Collins", "face": faces, "visit": visits,
                                                   auth.CSRF_FIELD: csrf_of(client, "/strangers")})
    assert answer.status_code == 303
    after = client.get("/strangers").text
    assert "Enrolled Eileen_Collins from 4 face(s) of 2 visit(s)" in after and "No strangers to review" in after
    table = fake_stack.access.table(fake_stack.outputs.sightings_table)
    assert get_visit(table, first).review == get_visit(table, second).review == "Eileen_Collins"
    # the next visit of that person is named: the published model knows her held-out probe photo
    current = backend.store.load_current()
    probe = load_rgb(FIXTURE_IMAGES / "probe_eileen_collins.jpg")
    assert [i.name for i in backend.pipeline().run(probe, current.classifier).identities] == ["Eileen_Collins"]
    assert len(backend.photos.list("Eileen_Collins")) == 4
    assert backend.library().get("Eileen_Collins").gallery == 4


def test_a_stranger_form_cannot_enrol_faces_of_other_visits(client: TestClient, fake_stack: FakeStack,
                                                           frames: list[np.ndarray]) -> None:
    stranger = eileen_visit(fake_stack, frames, NOW - 300)
    known = eileen_visit(fake_stack, frames, NOW - 200, decision="Eileen_Collins")
    log_in(client)
    token = csrf_of(client, "/strangers")
    known_face = re.search(r'name="face" value="([^"]+)"', client.get("/strangers").text).group(1)
    client.post("/strangers/enrol", data={"name": "Eve_Stranger", "face": [known_face], "visit": [known],
                                          auth.CSRF_FIELD: token})
    assert "not a stranger" in client.get("/visits").text
    table = fake_stack.access.table(fake_stack.outputs.sightings_table)
    assert get_visit(table, stranger).review == "" and get_visit(table, known).review == ""


def test_ignoring_a_stranger_dismisses_their_visits(client: TestClient, fake_stack: FakeStack,
                                                    frames: list[np.ndarray]) -> None:
    visit = eileen_visit(fake_stack, frames, NOW - 300)
    log_in(client)
    page = client.get("/strangers").text
    form = re.search(r'<form method="post" action="/strangers/ignore".*?</form>', page, re.S).group(0)
    client.post("/strangers/ignore", data={"visit": re.findall(r'name="visit" value="([^"]+)"', form),
                                           auth.CSRF_FIELD: csrf_of(client, "/strangers")})
    assert "No strangers to review" in client.get("/strangers").text
    assert get_visit(fake_stack.access.table(fake_stack.outputs.sightings_table), visit).review == "ignored"


# ---- the face library ----------------------------------------------------------------------------------------------
def _photos(names: list[str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (name, (FIXTURE_IMAGES / "Eileen_Collins" / name).read_bytes(), "image/jpeg")) for name in names]


def test_add_replace_edit_and_remove_a_person(client: TestClient, backend: ConsoleBackend) -> None:
    log_in(client)
    token = csrf_of(client, "/people")
    added = client.post("/people", data={"name": "Eileen_Collins", "details": '{"allow_entry": true, "floor": 3.5}',
                                         auth.CSRF_FIELD: token}, files=_photos(["enrol_1.jpg", "enrol_2.jpg", "enrol_3.jpg"]))
    assert added.status_code == 303 and added.headers["location"] == "/people/Eileen_Collins"
    first_version = backend.store.load_current().version
    page = client.get("/people/Eileen_Collins").text
    assert page.count('alt="enrolment photo ') == 3 and "allow_entry" in page
    photo = re.search(r'src="(/people/Eileen_Collins/photos/[^"]+)"', page).group(1)
    assert client.get(photo).headers["content-type"] == "image/jpeg"
    assert backend.library().get("Eileen_Collins").details["floor"] == 3.5

    replaced = client.post("/people/Eileen_Collins/photos", data={"mode": "replace", auth.CSRF_FIELD: token},
                           files=_photos(["enrol_4.jpg"]))
    assert replaced.status_code == 303
    entry = backend.library().get("Eileen_Collins")
    assert (entry.gallery, entry.photos) == (1, 1) and backend.store.load_current().version != first_version
    client.post("/people/Eileen_Collins/photos", data={"mode": "add", auth.CSRF_FIELD: token}, files=_photos(["enrol_1.jpg"]))
    assert (backend.library().get("Eileen_Collins").gallery, backend.library().get("Eileen_Collins").photos) == (2, 2)

    client.post("/people/Eileen_Collins/details", data={"details": '{"allow_entry": false}', auth.CSRF_FIELD: token})
    assert backend.library().get("Eileen_Collins").details == {"allow_entry": False}

    refused = client.post("/people/Eileen_Collins/remove", data={"confirm": "nope", auth.CSRF_FIELD: token})
    assert refused.status_code == 303 and backend.library().get("Eileen_Collins") is not None
    removed = client.post("/people/Eileen_Collins/remove", data={"confirm": "Eileen_Collins", auth.CSRF_FIELD: token})
    assert removed.status_code == 303 and backend.library().get("Eileen_Collins") is None
    assert backend.photos.list("Eileen_Collins") == [] and "Eileen_Collins" not in backend.store.load_current().classifier.labels


def test_photos_without_a_face_enrol_nothing(client: TestClient, backend: ConsoleBackend) -> None:
    log_in(client)
    page = client.post("/people", data={"name": "Nobody_Here", auth.CSRF_FIELD: csrf_of(client, "/people")},
                       files=[("photos", ("no_face.jpg", (FIXTURE_IMAGES / "no_face.jpg").read_bytes(), "image/jpeg"))])
    assert page.status_code == 303 and page.headers["location"] == "/people"
    assert "no usable face" in client.get("/people").text
    assert backend.library().get("Nobody_Here") is None


def test_a_person_page_refuses_labels_and_photo_names_outside_the_library(client: TestClient) -> None:
    log_in(client)
    assert client.get("/people/not-a-label").status_code == 404
    assert client.get("/people/Eileen_Collins/photos/..%2F..%2Fconsole%2Flogin.json").status_code == 404
