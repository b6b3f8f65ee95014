"""The door-request routes of the control Lambda (confirm mode), on moto's DynamoDB: a device files and reads only
its own requests, bad input is a 4xx, a pending request past its expiry reads as expired."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from facegate_contract import DOOR_PARTITION, DOOR_REQUEST_STATUS_PATH, DOOR_REQUESTS_PATH, clip_key
from recognizer.api.device_identity import DeviceDirectory
from recognizer.control.clip_transfers import ClipTransfers
from recognizer.control.door_requests import DoorRequests
from recognizer.control.service import ControlService
from recognizer.control.visit_reports import VisitReports
from tests.unit.test_lambda_routes import devices_table, proxy_event

REQUEST_ID = "20261204T180000.000Z-0a0b0c0d"
VISIT_ID = "20261204T175958.000Z-01020304"
KEY = clip_key("door-1", "20261204T175959.000Z-000003")


class Clock:
    def __init__(self) -> None:
        self.now = 1_796_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def control(mocked_aws: None, clock: Clock) -> ControlService:
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
    table = dynamodb.create_table(
        TableName="sightings", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "person", "KeyType": "HASH"}, {"AttributeName": "seen_at", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("person", "seen_at")])
    return ControlService(ClipTransfers("bucket", lambda _: None), VisitReports(table), devices=DeviceDirectory(
        devices_table()), doors=DoorRequests(table, clock=clock))


def call(control: ControlService, path: str, body: dict[str, Any] | bytes, key: str = "key-door-1"
         ) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = control.handle(proxy_event(path, raw, key=key))
    return response["statusCode"], json.loads(response["body"])


def request(**changes: Any) -> dict[str, Any]:
    return {"request_id": REQUEST_ID, "visit_id": VISIT_ID, "name": "Eileen_Collins", "clip_key": KEY,
            "expires_in": 60, **changes}


def test_a_filed_request_is_pending_then_expired(control: ControlService, clock: Clock) -> None:
    status, body = call(control, DOOR_REQUESTS_PATH, request())
    assert status == 200 and body["status"] == "pending" and body["expires_at"] == clock.now + 60
    assert call(control, DOOR_REQUEST_STATUS_PATH, {"request_id": REQUEST_ID})[1]["status"] == "pending"
    clock.now += 60
    assert call(control, DOOR_REQUEST_STATUS_PATH, {"request_id": REQUEST_ID})[1]["status"] == "expired"


def test_filing_again_answers_the_state_and_keeps_the_decision(control: ControlService) -> None:
    call(control, DOOR_REQUESTS_PATH, request())
    table = control.doors._table  # type: ignore[union-attr]  # the operator's decision, as the console writes it
    table.update_item(Key={"person": DOOR_PARTITION, "seen_at": REQUEST_ID},
                      UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":s": "denied"})
    assert call(control, DOOR_REQUESTS_PATH, request())[1]["status"] == "denied"


def test_another_device_can_neither_read_nor_refile_a_request(control: ControlService) -> None:
    call(control, DOOR_REQUESTS_PATH, request())
    assert call(control, DOOR_REQUEST_STATUS_PATH, {"request_id": REQUEST_ID}, key="key-door-2") == (
        403, {"error": "not_your_request", "message": "this door request belongs to another device"})
    assert call(control, DOOR_REQUESTS_PATH, request(clip_key=None), key="key-door-2")[0] == 403


def test_a_request_may_show_only_the_devices_own_clip(control: ControlService) -> None:
    status, body = call(control, DOOR_REQUESTS_PATH, request(), key="key-door-2")
    assert (status, body["error"]) == (403, "not_your_clip")


def test_an_unknown_request_is_404(control: ControlService) -> None:
    assert call(control, DOOR_REQUEST_STATUS_PATH, {"request_id": REQUEST_ID})[0] == 404


@pytest.mark.parametrize(("changes", "error"), [
    ({"expires_in": 4}, "bad_expiry"), ({"expires_in": 601}, "bad_expiry"), ({"name": "unknown"}, "bad_door_request"),
    ({"request_id": "x"}, "bad_door_request"), ({"visit_id": None}, "bad_door_request"),
    ({"clip_key": "clips/../x.mp4"}, "bad_clip_key")])
def test_a_bad_request_is_400(control: ControlService, changes: dict[str, Any], error: str) -> None:
    status, body = call(control, DOOR_REQUESTS_PATH, request(**changes))
    assert (status, body["error"]) == (400, error)


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"request_id": 5}', b'{"request_id": "20261204T180000.000Z-0a0b0c0d\\n"}'])
def test_a_bad_status_query_is_400(control: ControlService, raw: bytes) -> None:
    assert call(control, DOOR_REQUEST_STATUS_PATH, raw)[0] == 400
