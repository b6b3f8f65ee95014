"""The console's footage requests on an in-memory AWS: an operator asks a device for a range (a form with the session's
CSRF token, or "footage around this visit"), the request is listed with its state, a range that cannot be asked for
is a 400 page; once the device answered (through the Lambda's own code) the clips play from its footage bundle."""
from __future__ import annotations

import re
import time
from typing import Any

import boto3
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the console extra is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from facegate_cli.console import auth  # noqa: E402
from facegate_cli.console.clip_media import web_key  # noqa: E402
from facegate_contract import footage_key  # noqa: E402
from facegate_contract.wire import FootageResult  # noqa: E402
from recognizer.control.footage_requests import FootageLog  # noqa: E402
from services.footage_log import list_footage_requests  # noqa: E402
from tests.unit.console_support import FakeStack  # noqa: E402
from tests.unit.test_console import (backend, client, csrf_of, eileen_visit, face_pipeline, fake_stack,  # noqa: E402,F401
                                     frames, log_in)

DEVICE = "door-1"


def _table(stack: FakeStack) -> Any:
    return boto3.resource("dynamodb", region_name="us-east-1").Table(stack.outputs.sightings_table)


def _form_time(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s))


def ask(client: TestClient, device: str = DEVICE, since: str = "", until: str = "", **extra: str) -> Any:
    now = time.time()
    return client.post("/footage", data={auth.CSRF_FIELD: csrf_of(client, "/footage"), "device": device,
                                         "since": since or _form_time(now - 120), "until": until or _form_time(now - 60),
                                         **extra})


def test_asking_needs_a_login_and_the_sessions_csrf_token(client: TestClient, fake_stack: FakeStack) -> None:
    assert client.post("/footage", data={"device": DEVICE, "since": "2m", "until": "1m"}).status_code in (303, 401, 403)
    log_in(client)
    assert client.post("/footage", data={"device": DEVICE, "since": "2m", "until": "1m"}).status_code == 403
    assert list_footage_requests(_table(fake_stack), time.time()) == []


def test_a_request_is_recorded_listed_and_read_by_its_device_only(client: TestClient, fake_stack: FakeStack) -> None:
    log_in(client)
    asked = ask(client, since="3m", until="2m")
    assert asked.status_code == 303
    request_id = asked.headers["location"].rsplit("/", 1)[1]
    page = client.get(asked.headers["location"]).text
    assert "Footage from door-1" in page and "requested" in page and "next poll" in page

    listing = client.get("/footage").text
    assert f'href="/footage/{request_id}"' in listing and "requested" in listing and "console operator" in listing
    [record] = list_footage_requests(_table(fake_stack), time.time())
    assert (record.device, record.asked_by, round(record.to_at - record.from_at)) == (DEVICE, "console operator", 60)
    assert [a.request_id for a in FootageLog(_table(fake_stack)).open_for(DEVICE).requests] == [request_id]
    assert FootageLog(_table(fake_stack)).open_for("door-2").requests == []


@pytest.mark.parametrize(("device", "since", "until", "says"), [
    ("door 1", "3m", "2m", "not a device id"),
    (DEVICE, "2m", "3m", "end after it starts"),
    (DEVICE, "2h", "1m", "at most 300 s"),
    (DEVICE, "last tuesday", "1m", "last tuesday"),
])
def test_a_range_that_cannot_be_asked_for_is_a_400_page(client: TestClient, fake_stack: FakeStack, device: str,
                                                        since: str, until: str, says: str) -> None:
    log_in(client)
    page = ask(client, device=device, since=since, until=until)
    assert page.status_code == 400 and says in page.text
    assert list_footage_requests(_table(fake_stack), time.time()) == []


def test_a_visit_page_asks_for_the_footage_around_it(client: TestClient, fake_stack: FakeStack,
                                                     frames: list[np.ndarray]) -> None:
    at = time.time() - 600
    visit_id = eileen_visit(fake_stack, frames, at, device=DEVICE)
    log_in(client)
    page = client.get(f"/visits/{visit_id}").text
    assert "footage around this visit" in page
    fields = dict(re.findall(r'<input type="hidden" name="(device|since|until|visit_id)" value="([^"]*)"', page))
    assert fields["device"] == DEVICE and fields["visit_id"] == visit_id
    asked = ask(client, **fields)
    assert asked.status_code == 303
    [record] = list_footage_requests(_table(fake_stack), time.time())
    assert record.from_at <= at - 59 and record.to_at >= at + 1 and record.visit_id == visit_id
    assert f'href="/visits/{visit_id}"' in client.get(asked.headers["location"]).text


def test_an_uploaded_request_plays_from_its_bundle(client: TestClient, fake_stack: FakeStack,
                                                   frames: list[np.ndarray]) -> None:
    at = time.time() - 300
    log_in(client)
    request_id = ask(client, since=_form_time(at - 5), until=_form_time(at + 5)).headers["location"].rsplit("/", 1)[1]
    clips = [fake_stack.add_clip(DEVICE, frames[20:30], 5, at)[0], fake_stack.add_clip(DEVICE, frames[40:50], 4, at + .5)[0]]
    key = fake_stack.bundle(DEVICE, request_id, clips, key=footage_key(DEVICE, request_id))  # as the device uploads it
    FootageLog(_table(fake_stack)).answer(DEVICE, FootageResult(
        request_id=request_id, status="uploaded", key=key, clips=[c.rsplit("/", 1)[1][:-4] for c in clips]))

    page = client.get(f"/footage/{request_id}").text
    assert "uploaded" in page and 'id="film"' in page and "2 clip(s) played back to back" in page
    assert "2 clips" in client.get("/footage").text
    for clip in clips:
        assert f"/clips/play?key={clip.replace('/', '%2F')}" in page
        played = client.get("/clips/play", params={"key": clip})
        assert played.status_code == 303 and web_key(clip) in played.headers["location"]


def test_an_unknown_request_is_a_404_page(client: TestClient, fake_stack: FakeStack) -> None:
    log_in(client)
    assert client.get("/footage/20261129T100000.000Z-00000001").status_code == 404
    assert client.get("/footage/not-an-id").status_code == 404
