"""The console's history and clips an operator can trust (issue #22): paging to the 51st visit, a date range,
partial case-insensitive filters with a "no match" message, a missing clip that says why, a visit as one film to
download, and a live list that answers 304 while nothing changed."""
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

from tests.unit.console_support import FakeStack  # noqa: E402
from tests.unit.test_console import (backend, client, eileen_visit, face_pipeline, fake_stack,  # noqa: E402,F401
                                     frames, log_in)

DAY = 86400
BASE = time.mktime(time.strptime("2026-11-20", "%Y-%m-%d")) - time.timezone  # 2026-11-20T00:00:00Z


def _visits(stack: FakeStack, count: int, start: float, step: float, device: str = "door-1",
            decision: str = "unknown") -> list[str]:
    return [stack.add_visit(device, decision, [], start + i * step) for i in range(count)]


def _ids(html: str) -> list[str]:
    return re.findall(r'data-visit="([^"]+)"', html)


def test_the_51st_visit_is_reachable_through_the_older_link(client: TestClient, fake_stack: FakeStack) -> None:
    ids = _visits(fake_stack, 60, BASE, 60)  # oldest first
    log_in(client)
    first = client.get("/visits").text
    assert _ids(first) == ids[::-1][:50]
    older = re.search(r'<a class="older" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).text
    assert _ids(second) == ids[::-1][50:]  # the 51st newest first, nothing shown twice
    assert 'class="older"' not in second and 'data-live=' not in second  # an older page does not refresh itself


def test_filters_ignore_case_match_part_of_a_name_and_say_when_nothing_matches(client: TestClient,
                                                                               fake_stack: FakeStack) -> None:
    eileen = _visits(fake_stack, 2, BASE, 60, device="heldout-cam", decision="Eileen_Collins")
    other = _visits(fake_stack, 2, BASE + 3600, 60, device="front-door")
    log_in(client)
    assert sorted(_ids(client.get("/visits", params={"name": "eileen collins"}).text)) == sorted(eileen)
    assert sorted(_ids(client.get("/visits", params={"name": "COLL"}).text)) == sorted(eileen)
    assert sorted(_ids(client.get("/visits", params={"device": "HELD"}).text)) == sorted(eileen)
    assert sorted(_ids(client.get("/visits", params={"device": "door", "name": "unk"}).text)) == sorted(other)
    page = client.get("/visits").text
    assert '<option value="front-door">' in page and '<option value="heldout-cam">' in page  # the device picker
    none = client.get("/visits", params={"name": "nobody"}).text
    assert _ids(none) == [] and "No visit matches these filters" in none and 'class="clear" href="/visits"' in none


def test_a_date_range_bounds_the_list_and_a_bare_until_date_includes_that_day(client: TestClient,
                                                                              fake_stack: FakeStack) -> None:
    ids = _visits(fake_stack, 5, BASE, DAY)  # 20, 21, 22, 23, 24 November
    log_in(client)
    shown = _ids(client.get("/visits", params={"since": "2026-11-21", "until": "2026-11-23"}).text)
    assert shown == [ids[3], ids[2], ids[1]]


def test_a_filter_that_cannot_be_read_is_a_400_that_says_which(client: TestClient) -> None:
    log_in(client)
    page = client.get("/visits", params={"since": "last tuesday"})
    assert page.status_code == 400 and "from: &#39;last tuesday&#39;" in page.text and 'href="/visits"' in page.text
    rows = client.get("/visits/rows", params={"before": "not-a-visit"})
    assert rows.status_code == 400 and rows.json()["error"] == "bad_filter"


def test_the_live_list_answers_304_until_a_visit_arrives(client: TestClient, fake_stack: FakeStack) -> None:
    _visits(fake_stack, 1, BASE, 60)
    log_in(client)
    first = client.get("/visits/rows")
    tag = first.headers["etag"]
    assert client.get("/visits/rows", headers={"If-None-Match": tag}).status_code == 304
    _visits(fake_stack, 1, BASE + 600, 60)
    changed = client.get("/visits/rows", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and len(_ids(changed.text)) == 2


def test_a_missing_clip_says_why_instead_of_an_empty_player(client: TestClient, fake_stack: FakeStack,
                                                            frames: list[np.ndarray]) -> None:
    visit = eileen_visit(fake_stack, frames, BASE)
    from services.visit_log import get_visit

    keys = get_visit(fake_stack.access.table(fake_stack.outputs.sightings_table), visit).keys
    fake_stack.s3.delete_object(Bucket=fake_stack.outputs.bucket, Key=keys[0])
    log_in(client)
    page = client.get(f"/visits/{visit}").text
    assert "1 of 2 clip(s) left out: not in the bucket: it expired" in page
    assert page.count('"src": "/clips/play') == 1 and "clip gone" in page
    for key in keys:
        fake_stack.s3.delete_object(Bucket=fake_stack.outputs.bucket, Key=key)
    gone = client.get(f"/visits/{visit}").text
    assert "<video" not in gone and "None of this visit's 2 clip(s) can be shown" in gone
    answer = client.get("/clips/play", params={"key": keys[0]})
    assert answer.status_code == 404 and answer.json()["error"] == "clip_missing"
    assert "expired or never uploaded" in answer.json()["message"]


def test_a_visit_downloads_as_one_film_of_its_clips(client: TestClient, fake_stack: FakeStack,
                                                    frames: list[np.ndarray], tmp_path: Path) -> None:
    visit = eileen_visit(fake_stack, frames, BASE)
    log_in(client)
    page = client.get(f"/visits/{visit}").text
    assert page.count('"src": "/clips/play') == 2 and f'href="/visits/{visit}/film"' in page
    film = client.get(f"/visits/{visit}/film")
    assert film.status_code == 200 and film.headers["content-type"] == "video/webm"
    assert "attachment" in film.headers["content-disposition"]
    path = tmp_path / "visit.webm"
    path.write_bytes(film.content)
    capture = cv2.VideoCapture(str(path))
    decoded = 0
    while capture.read()[0]:
        decoded += 1
    assert decoded == 20  # both clips' ten frames, back to back
    assert client.get("/visits/20261129T100000.000Z-00000001/film").status_code == 404



def test_listed_visits_have_their_thumbnail_prepared_before_the_page_asks(client: TestClient, backend: Any,
                                                                         fake_stack: FakeStack,
                                                                         frames: list[np.ndarray],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    eileen_visit(fake_stack, frames, BASE)
    eileen_visit(fake_stack, frames, BASE + 60)
    assert backend.prepare_thumbnails() == 2
    assert backend.prepare_thumbnails() == 0  # cut once
    monkeypatch.setattr(backend.media, "frame", lambda key: pytest.fail("a listed face was decoded on request"))
    log_in(client)
    faces = [u.replace("&amp;", "&") for u in re.findall(r'src="(/faces\?[^"]+)"', client.get("/visits").text)]
    assert len(faces) == 2 and all(client.get(u).status_code == 200 for u in faces)
