"""The console's door requests (confirm mode) on an in-memory AWS: requests filed by the Lambda's own code, shown with
who, when, the face and the clip; Approve / Deny only for a logged-in operator with the session's CSRF token; the
decision is what the device reads, and is recorded on the visit; an expired request cannot be approved."""
from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

pytest.importorskip("fastapi", reason="the console extra is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from facegate_cli.console import auth  # noqa: E402
from facegate_contract.wire import DoorRequest  # noqa: E402
from recognizer.control.door_requests import DoorRequests  # noqa: E402
from services.visit_log import get_visit  # noqa: E402
from tests.unit.console_support import FakeStack  # noqa: E402
from tests.unit.test_console import (backend, client, csrf_of, eileen_visit, face_pipeline, fake_stack,  # noqa: E402,F401
                                     frames, log_in)

DEVICE = "door-1"
REQUEST_ID = "20261204T180001.000Z-0a0b0c0d"


def _table(stack: FakeStack) -> Any:
    return boto3.resource("dynamodb", region_name="us-east-1").Table(stack.outputs.sightings_table)


def file_request(stack: FakeStack, frames: list, filed_at: float | None = None) -> tuple[DoorRequests, str]:
    """A visit of Eileen_Collins at door-1 and the door request the device filed for it (through the Lambda's code)."""
    at = time.time() - 5
    visit_id = eileen_visit(stack, frames, at, decision="Eileen_Collins", device=DEVICE)
    visit = get_visit(_table(stack), visit_id)
    assert visit is not None
    doors = DoorRequests(_table(stack), clock=(lambda: filed_at) if filed_at else time.time)
    doors.file(DEVICE, DoorRequest(request_id=REQUEST_ID, visit_id=visit_id, name="Eileen_Collins",
                                   clip_key=visit.best_key, expires_in=60))
    return DoorRequests(_table(stack)), visit_id


def test_only_a_logged_in_operator_sees_or_decides(client: TestClient, fake_stack: FakeStack, frames: list) -> None:
    doors, _ = file_request(fake_stack, frames)

    assert client.get("/door-requests").status_code in (302, 303, 401)
    assert client.get(f"/door-requests/{REQUEST_ID}").status_code in (302, 303, 401)
    refused = client.post(f"/door-requests/{REQUEST_ID}/approve", data={auth.CSRF_FIELD: csrf_of(client)})
    assert refused.status_code in (302, 303, 401, 403) and "/door-requests/" not in refused.headers.get("location", "")
    assert doors.state(DEVICE, REQUEST_ID).status == "pending"


def test_a_decision_needs_the_sessions_csrf_token(client: TestClient, fake_stack: FakeStack, frames: list) -> None:
    doors, _ = file_request(fake_stack, frames)
    log_in(client)

    assert client.post(f"/door-requests/{REQUEST_ID}/approve").status_code == 403
    assert client.post(f"/door-requests/{REQUEST_ID}/approve",
                       data={auth.CSRF_FIELD: "forged-token-xxxxxxxxxxxx"}).status_code == 403
    assert doors.state(DEVICE, REQUEST_ID).status == "pending"


def test_an_approval_reaches_the_device_and_the_visit_once(client: TestClient, fake_stack: FakeStack,
                                                           frames: list) -> None:
    doors, visit_id = file_request(fake_stack, frames)
    log_in(client)

    page = client.get("/door-requests").text
    assert "Eileen_Collins</a> at door-1" in page and "Pending" in page and "Approve: open the door" in page
    assert 'alt="face of Eileen_Collins at the door"' in page and "/clips/play?key=clips/door-1/" in page
    token = csrf_of(client, f"/door-requests/{REQUEST_ID}")
    done = client.post(f"/door-requests/{REQUEST_ID}/approve", data={auth.CSRF_FIELD: token})
    assert (done.status_code, done.headers["location"]) == (303, f"/door-requests/{REQUEST_ID}")

    assert doors.state(DEVICE, REQUEST_ID).status == "approved"
    visit = get_visit(_table(fake_stack), visit_id)
    assert visit is not None and visit.door_request["status"] == "approved"
    assert visit.door_request["request_id"] == REQUEST_ID
    # Decided once: a later deny changes nothing and says why.
    client.post(f"/door-requests/{REQUEST_ID}/deny", data={auth.CSRF_FIELD: token})
    assert doors.state(DEVICE, REQUEST_ID).status == "approved"
    assert "this door request is approved: it can no longer be decided" in client.get(f"/door-requests/{REQUEST_ID}").text


def test_a_denial_keeps_the_door_shut(client: TestClient, fake_stack: FakeStack, frames: list) -> None:
    doors, _ = file_request(fake_stack, frames)
    log_in(client)

    client.post(f"/door-requests/{REQUEST_ID}/deny", data={auth.CSRF_FIELD: csrf_of(client, "/door-requests")})

    assert doors.state(DEVICE, REQUEST_ID).status == "denied"
    assert "Denied</strong>: the door stayed shut" in client.get("/door-requests").text


def test_an_expired_request_is_shown_expired_and_cannot_be_approved(client: TestClient, fake_stack: FakeStack,
                                                                    frames: list) -> None:
    doors, _ = file_request(fake_stack, frames, filed_at=time.time() - 61)
    log_in(client)

    page = client.get(f"/door-requests/{REQUEST_ID}").text
    assert "Expired</strong>" in page and "Approve: open the door" not in page
    client.post(f"/door-requests/{REQUEST_ID}/approve", data={auth.CSRF_FIELD: csrf_of(client, "/door-requests")})

    assert doors.state(DEVICE, REQUEST_ID).status == "expired"
    assert "this door request is expired" in client.get(f"/door-requests/{REQUEST_ID}").text


def test_an_unknown_request_is_a_404_page(client: TestClient, fake_stack: FakeStack) -> None:
    log_in(client)

    assert client.get("/door-requests/20261204T180001.000Z-ffffffff").status_code == 404
    assert client.get("/door-requests/not-an-id").status_code == 404
    gone = client.post("/door-requests/not-an-id/approve", data={auth.CSRF_FIELD: csrf_of(client, "/door-requests")})
    assert (gone.status_code, gone.headers["location"]) == (303, "/door-requests")
