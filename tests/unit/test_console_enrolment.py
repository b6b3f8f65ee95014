"""Enrolling a stranger from the console (issue #22): a chosen subset of the group's faces, a confirm step that warns
when the faces are close to someone enrolled, and an undo that puts the library and the review back."""
from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the console extra is not installed")
pytest.importorskip("moto", reason="the dev extra (moto) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from facegate_cli.console import auth  # noqa: E402
from facegate_cli.console.backend import ConsoleBackend  # noqa: E402
from services.visit_log import get_visit  # noqa: E402
from tests.unit.console_support import FakeStack  # noqa: E402
from tests.unit.test_console import (_photos, backend, client, csrf_of, eileen_visit,  # noqa: E402,F401
                                     face_pipeline, fake_stack, frames, log_in)

NOW = time.time()


def _group_form(client: TestClient) -> tuple[list[str], list[str]]:
    page = client.get("/strangers").text
    form = re.search(r'<form method="get" action="/strangers/confirm".*?</form>', page, re.S).group(0)
    return re.findall(r'name="face" value="([^"]+)"', form), re.findall(r'name="visit" value="([^"]+)"', form)


def _confirm(client: TestClient, name: str, faces: list[str], visits: list[str]) -> Any:
    return client.get("/strangers/confirm", params={"name": name, "face": faces, "visit": visits})


def _enrol(client: TestClient, confirm_page: str) -> None:
    form = re.search(r'<form method="post" action="/strangers/enrol".*?</form>', confirm_page, re.S).group(0)
    fields = {"name": re.search(r'name="name" value="([^"]+)"', form).group(1),
              "face": re.findall(r'name="face" value="([^"]+)"', form),
              "visit": re.findall(r'name="visit" value="([^"]+)"', form),
              auth.CSRF_FIELD: re.search(rf'name="{auth.CSRF_FIELD}" value="([^"]+)"', form).group(1)}
    assert client.post("/strangers/enrol", data=fields).status_code == 303


def _undo(client: TestClient) -> str:
    page = client.get("/strangers").text
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    client.post("/strangers/undo", data={"token": token, auth.CSRF_FIELD: csrf_of(client, "/strangers")})
    return client.get("/strangers").text


def test_a_chosen_subset_is_confirmed_enrolled_and_undone(client: TestClient, backend: ConsoleBackend,
                                                          fake_stack: FakeStack, frames: list[np.ndarray]) -> None:
    first, second = eileen_visit(fake_stack, frames, NOW - 900), eileen_visit(fake_stack, frames, NOW - 300)
    log_in(client)
    faces, visits = _group_form(client)
    assert len(faces) == 4
    confirm = _confirm(client, "Eileen Collins", faces[:3], visits)  # one face left out
    assert confirm.status_code == 200
    assert "Enrol 3 face(s) as Eileen_Collins?" in confirm.text and "new to the face library" in confirm.text
    assert "close to" not in confirm.text  # nobody is enrolled yet
    assert backend.library().get("Eileen_Collins") is None  # the confirm step changes nothing
    _enrol(client, confirm.text)
    entry = backend.library().get("Eileen_Collins")
    assert entry is not None and entry.gallery == entry.photos == 3
    table = fake_stack.access.table(fake_stack.outputs.sightings_table)
    assert get_visit(table, first).review == "Eileen_Collins"

    after = _undo(client)
    assert "Undid the enrolment of Eileen_Collins (removed them); 2 visit(s) are back to review" in after
    assert backend.library().get("Eileen_Collins") is None and backend.photos.list("Eileen_Collins") == []
    assert "Eileen_Collins" not in backend.store.load_current().classifier.labels
    assert get_visit(table, first).review == get_visit(table, second).review == ""
    assert after.count("data-group=") == 1 and 'name="token"' not in after  # back to review; undone once


def test_faces_close_to_someone_enrolled_are_flagged_and_adding_to_them_undoes_to_their_old_gallery(
        client: TestClient, backend: ConsoleBackend, fake_stack: FakeStack, frames: list[np.ndarray]) -> None:
    log_in(client)
    client.post("/people", data={"name": "Eileen_Collins", auth.CSRF_FIELD: csrf_of(client, "/people")},
                files=_photos(["enrol_1.jpg", "enrol_2.jpg"]))
    before = backend.library().get("Eileen_Collins")
    assert (before.gallery, before.photos) == (2, 2)
    eileen_visit(fake_stack, frames, NOW - 300)  # reported unknown (say, before she was enrolled)
    faces, visits = _group_form(client)
    wrong = _confirm(client, "Eve_Newcomer", faces, visits).text
    assert "These faces are close to <strong>Eileen_Collins</strong>, who is enrolled" in wrong
    right = _confirm(client, "Eileen_Collins", faces, visits).text
    assert "close to" not in right and "Eileen_Collins is enrolled already: these faces are added" in right
    _enrol(client, right)
    assert backend.library().get("Eileen_Collins").gallery > 2
    _undo(client)
    again = backend.library().get("Eileen_Collins")
    assert (again.gallery, again.photos) == (2, 2)  # her own enrolment, as it was


def test_an_undo_is_refused_once_the_model_moved_on(client: TestClient, backend: ConsoleBackend,
                                                    fake_stack: FakeStack, frames: list[np.ndarray]) -> None:
    eileen_visit(fake_stack, frames, NOW - 300)
    log_in(client)
    faces, visits = _group_form(client)
    _enrol(client, _confirm(client, "Eileen_Collins", faces, visits).text)
    client.post("/people", data={"name": "Other_Person", auth.CSRF_FIELD: csrf_of(client, "/people")},
                files=_photos(["enrol_3.jpg"]))  # another enrolment since
    page = _undo(client)
    assert "the model changed since that enrolment" in page and backend.library().get("Eileen_Collins") is not None


def test_the_confirm_step_refuses_a_single_word_name_and_no_face(client: TestClient, fake_stack: FakeStack,
                                                                 frames: list[np.ndarray]) -> None:
    eileen_visit(fake_stack, frames, NOW - 300)
    log_in(client)
    faces, visits = _group_form(client)
    single = _confirm(client, "Eileen", faces, visits)
    assert single.status_code == 400 and "a first and a last name" in single.text
    none = _confirm(client, "Eileen_Collins", [], visits)
    assert none.status_code == 400 and "tick at least one face" in none.text
