"""Footage requests (the console asks a device for the clips it kept on the device): the contract's keys and bodies,
the control Lambda's routes on moto's DynamoDB (a device sees and answers only its own requests, bad input is a 400),
and the device's poller (which kept clips go in, one bundle under its own prefix, the answer, retries and restarts)."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from facegate_contract import (FOOTAGE_REQUEST_EXPIRES_S, FOOTAGE_REQUESTS_PATH, FOOTAGE_RESULTS_PATH, UPLOADS_PATH,
                               bundle_key, footage_key, parse_any_bundle_key, parse_bundle_key, parse_footage_key)
from facegate_contract.wire import (FootageAsk, FootageRequestState, FootageResult, UploadRequest, WireError, decode,
                                    encode)
from pi_app.recording.clip_state import KEPT_LOCAL
from pi_app.recording.spool import Spool
from pi_app.runtime.footage import FOOTAGE, SETTLE_S, FootagePoller
from pi_app.transport.service_errors import ServiceRefused, ServiceUnavailable
from recognizer.api.device_identity import DeviceDirectory
from recognizer.control.clip_transfers import ClipTransfers
from recognizer.control.footage_requests import FootageLog
from recognizer.control.service import ControlService
from recognizer.control.visit_reports import VisitReports
from services.footage_log import FootageRequestError, get_footage_request, request_footage
from tests.unit.pi_support import FakeUploader, add_clip
from tests.unit.test_lambda_routes import devices_table, proxy_event

T0 = 1_796_000_000.0
DEVICE = "door-1"
REQUEST_ID = "20261204T180000.000Z-0a0b0c0d"


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---- the contract ---------------------------------------------------------------------------------------------------
def test_a_footage_key_is_under_the_devices_prefix_and_no_visit_bundle() -> None:
    key = footage_key(DEVICE, REQUEST_ID)
    assert key == f"clips/{DEVICE}/2026/12/04/footage-{REQUEST_ID}.zip"
    assert parse_footage_key(key) == (DEVICE, REQUEST_ID) and parse_any_bundle_key(key) == (DEVICE, REQUEST_ID)
    assert parse_bundle_key(key) is None  # the console never takes it for a visit's
    assert parse_footage_key(bundle_key(DEVICE, REQUEST_ID)) is None
    assert parse_footage_key(key.replace("/04/", "/05/")) is None  # the day must be the request id's
    assert parse_footage_key(key + "\n") is None


def test_an_upload_may_name_a_footage_bundle() -> None:
    key = footage_key(DEVICE, REQUEST_ID)
    assert decode(encode({"size": 10, "bundle": key}), UploadRequest).bundle == key
    with pytest.raises(WireError):
        decode(encode({"size": 10, "bundle": key.replace("footage-", "footage-x")}), UploadRequest)


def test_a_result_says_uploaded_with_its_key_and_clips_or_nothing_kept_with_neither() -> None:
    key = footage_key(DEVICE, REQUEST_ID)
    clip = "20261204T175959.000Z-000003"
    assert decode(encode({"request_id": REQUEST_ID, "status": "uploaded", "key": key, "clips": [clip]}),
                  FootageResult).clips == [clip]
    for bad in ({"status": "uploaded", "key": key}, {"status": "uploaded", "clips": [clip]},
                {"status": "nothing_kept", "key": key}, {"status": "expired"}, {"status": "uploaded", "key": key,
                                                                                "clips": ["../x"]}):
        with pytest.raises(WireError):
            decode(encode({"request_id": REQUEST_ID, **bad}), FootageResult)


# ---- the control Lambda -------------------------------------------------------------------------------------------
@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table(mocked_aws: None) -> Any:
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
    return dynamodb.create_table(
        TableName="sightings", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "person", "KeyType": "HASH"}, {"AttributeName": "seen_at", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("person", "seen_at")])


@pytest.fixture
def control(table: Any, clock: Clock) -> ControlService:
    def presigner(_: str | None) -> Any:
        return boto3.client("s3", region_name="us-east-1")

    return ControlService(ClipTransfers("bucket", presigner), VisitReports(table),
                          devices=DeviceDirectory(devices_table()), footage=FootageLog(table, clock=clock))


def call(control: ControlService, path: str, body: dict[str, Any] | bytes, key: str = "key-door-1"
         ) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = control.handle(proxy_event(path, raw, key=key))
    return response["statusCode"], json.loads(response["body"])


def ask(table: Any, clock: Clock, device: str = DEVICE, ago_s: float = 120.0) -> str:
    """A request made as the console makes it; returns its id."""
    return request_footage(table, device, clock.now - ago_s, clock.now - ago_s + 60, "tester", clock.now).request_id


def test_a_device_sees_only_its_own_open_requests_with_their_keys(control: ControlService, table: Any,
                                                                  clock: Clock) -> None:
    mine, _theirs = ask(table, clock), ask(table, clock, device="door-2")
    status, body = call(control, FOOTAGE_REQUESTS_PATH, {})
    assert status == 200
    assert body == {"requests": [{"request_id": mine, "from_at": clock.now - 120, "to_at": clock.now - 60,
                                  "key": footage_key(DEVICE, mine)}]}
    clock.now += FOOTAGE_REQUEST_EXPIRES_S  # a day later nobody answered: expired, no longer asked for
    assert call(control, FOOTAGE_REQUESTS_PATH, {})[1] == {"requests": []}
    record = get_footage_request(table, mine, clock.now)
    assert record is not None and record.state.status == "expired"


def test_an_answer_closes_the_request_and_a_retry_gets_the_same_state(control: ControlService, table: Any,
                                                                      clock: Clock) -> None:
    request_id = ask(table, clock)
    result = {"request_id": request_id, "status": "uploaded", "key": footage_key(DEVICE, request_id),
              "clips": ["20261204T175959.000Z-000003", "20261204T175959.500Z-000004"]}
    assert call(control, FOOTAGE_RESULTS_PATH, result) == (200, {
        "request_id": request_id, "status": "uploaded", "key": footage_key(DEVICE, request_id), "clips": 2})
    assert call(control, FOOTAGE_RESULTS_PATH, result)[0] == 200  # the device's answer was lost: sent again
    assert call(control, FOOTAGE_REQUESTS_PATH, {})[1] == {"requests": []}
    status, body = call(control, FOOTAGE_RESULTS_PATH, {"request_id": request_id, "status": "nothing_kept"})
    assert (status, body["error"]) == (409, "already_answered")
    record = get_footage_request(table, request_id, clock.now)
    assert record is not None and record.state.status == "uploaded" and len(record.clip_keys) == 2


def test_another_device_can_neither_answer_nor_upload_under_anothers_prefix(control: ControlService, table: Any,
                                                                            clock: Clock) -> None:
    request_id = ask(table, clock)
    assert call(control, FOOTAGE_RESULTS_PATH, {"request_id": request_id, "status": "nothing_kept"},
                key="key-door-2") == (403, {"error": "not_your_request",
                                            "message": "this footage request belongs to another device"})
    status, body = call(control, UPLOADS_PATH, {"size": 10, "bundle": footage_key(DEVICE, request_id)},
                        key="key-door-2")
    assert (status, body["error"]) == (403, "not_your_clip")
    # the owner may upload its own bundle: the URL is for exactly that key
    status, body = call(control, UPLOADS_PATH, {"size": 10, "bundle": footage_key(DEVICE, request_id)})
    assert status == 200 and body["key"] == footage_key(DEVICE, request_id)
    assert body["headers"]["Content-Type"] == "application/zip"
    record = get_footage_request(table, request_id, clock.now)
    assert record is not None and record.state.status == "requested"


@pytest.mark.parametrize(("body", "status", "error"), [
    (b"{not json", 400, "invalid_json"),
    ({"request_id": "nope", "status": "nothing_kept"}, 400, "bad_footage_result"),
    ({"request_id": REQUEST_ID, "status": "uploaded", "key": "clips/door-1/x.zip", "clips": ["x"]}, 400,
     "bad_footage_key"),
    ({"request_id": REQUEST_ID, "status": "lost"}, 400, "bad_footage_result"),
    ({"request_id": REQUEST_ID, "status": "nothing_kept"}, 404, "no_such_request"),
])
def test_bad_results_are_4xx_with_error_and_message(control: ControlService, body: Any, status: int,
                                                    error: str) -> None:
    got_status, got = call(control, FOOTAGE_RESULTS_PATH, body)
    assert (got_status, got["error"]) == (status, error) and got["message"]


def test_an_answer_naming_another_requests_key_is_refused(control: ControlService, table: Any, clock: Clock) -> None:
    first, second = ask(table, clock), ask(table, clock)
    status, body = call(control, FOOTAGE_RESULTS_PATH, {"request_id": first, "status": "uploaded",
                                                       "key": footage_key(DEVICE, second),
                                                       "clips": ["20261204T175959.000Z-000003"]})
    assert (status, body["error"]) == (400, "bad_footage_key")
    assert call(control, FOOTAGE_REQUESTS_PATH, b"[]")[0] == 400  # the query is an object


def test_the_console_refuses_a_range_it_cannot_ask_for(table: Any, clock: Clock) -> None:
    for device, since, until in (("door 1", -60, -30), (DEVICE, -30, -60), (DEVICE, -1000, -30), (DEVICE, 10, 60)):
        with pytest.raises(FootageRequestError):
            request_footage(table, device, clock.now + since, clock.now + until, "tester", clock.now)


# ---- the device ---------------------------------------------------------------------------------------------------
class FakeFootageApi:
    """The stack's footage routes: open requests until answered; `down` makes every call fail."""

    def __init__(self, *asks: FootageAsk) -> None:
        self.asks = list(asks)
        self.answers: list[FootageResult] = []
        self.polls = 0
        self.down = False
        self.refuse: ServiceRefused | None = None

    def open_requests(self) -> list[FootageAsk]:
        self.polls += 1
        if self.down:
            raise ServiceUnavailable("footage requests failed: ConnectionError")
        return [a for a in self.asks if a.request_id not in {r.request_id for r in self.answers}]

    def answer(self, result: FootageResult) -> FootageRequestState:
        if self.down:
            raise ServiceUnavailable("footage result failed: ConnectionError")
        if self.refuse is not None:
            raise self.refuse
        self.answers.append(result)
        return FootageRequestState(request_id=result.request_id, status=result.status, key=result.key,
                                   clips=len(result.clips))


def footage_ask(from_at: float, to_at: float, request_id: str = REQUEST_ID) -> FootageAsk:
    return FootageAsk(request_id=request_id, from_at=from_at, to_at=to_at, key=footage_key(DEVICE, request_id))


def kept(spool: Spool, *seqs: int) -> list[str]:
    """Empty-doorway clips kept on the device: clip `seq` records from T0 + 0.5 * (seq - 1) to T0 + 0.5 * seq."""
    clips = []
    for seq in seqs:
        state = add_clip(spool, seq, T0 + 0.5 * seq, device_id=DEVICE, upload__status=KEPT_LOCAL)
        spool.keep(state)
        clips.append(state.clip)
    return clips


def poller(root: Path, api: FakeFootageApi, uploader: FakeUploader, clock: Clock) -> FootagePoller:
    return FootagePoller(Spool(root, device_id=DEVICE), api, uploader, every_s=60.0, clip_s=0.5, clock=clock)


def zip_members(uploader: FakeUploader, key: str) -> dict[str, dict[str, str]]:
    body, _ = uploader.objects[key]
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        assert all(info.compress_type == zipfile.ZIP_STORED for info in bundle.infolist())
        return {info.filename: json.loads(info.comment) for info in bundle.infolist()}


def test_the_kept_clips_of_the_range_go_up_as_one_bundle_then_the_answer(tmp_path: Path) -> None:
    spool = Spool(tmp_path, device_id=DEVICE)
    clips = kept(spool, 1, 2, 3, 4, 5, 6)  # clip n starts at T0 + 0.5 * (n - 1)
    clock = Clock(T0 + 100)
    api, uploader = FakeFootageApi(footage_ask(T0 + 0.5, T0 + 2.0)), FakeUploader()
    device = poller(tmp_path, api, uploader, clock)

    device.tick()

    key = footage_key(DEVICE, REQUEST_ID)
    assert list(uploader.objects) == [key] and api.polls == 1
    members = zip_members(uploader, key)
    assert list(members) == [f"{c}.mp4" for c in clips[1:5]]  # started at T0 + 0.5 .. T0 + 2.0
    assert members[f"{clips[1]}.mp4"]["device"] == DEVICE  # each member carries its clip's S3 metadata
    assert uploader.objects[key][1] == {"footage-request": REQUEST_ID, "clips": "4"}
    assert api.answers == [FootageResult(request_id=REQUEST_ID, status="uploaded", key=key, clips=clips[1:5])]
    assert spool.kept_clips() == clips  # still kept: another request may ask again
    assert not list((tmp_path / FOOTAGE).glob("*.zip"))

    device.tick()  # answered: nothing more happens
    assert uploader.attempts == 1 and len(api.answers) == 1 and api.polls == 2


def test_a_range_with_no_kept_clip_is_answered_nothing_kept(tmp_path: Path) -> None:
    kept(Spool(tmp_path, device_id=DEVICE), 1, 2)
    api, uploader = FakeFootageApi(footage_ask(T0 + 50, T0 + 60)), FakeUploader()
    poller(tmp_path, api, uploader, Clock(T0 + 100)).tick()
    assert uploader.objects == {}
    assert api.answers == [FootageResult(request_id=REQUEST_ID, status="nothing_kept")]


def test_a_range_not_over_yet_waits_for_its_last_clips(tmp_path: Path) -> None:
    spool = Spool(tmp_path, device_id=DEVICE)
    kept(spool, 1)
    clock = Clock(T0 + 1)
    api, uploader = FakeFootageApi(footage_ask(T0, T0 + 1.0)), FakeUploader()
    device = poller(tmp_path, api, uploader, clock)
    device.tick()
    assert api.answers == [] and uploader.attempts == 0
    kept(spool, 2, 3)  # recorded meanwhile
    clock.now = T0 + 1.0 + 0.5 + SETTLE_S
    device.tick()
    assert len(api.answers) == 1 and len(api.answers[0].clips) == 3


def test_a_failed_upload_is_retried_at_the_next_poll_and_nothing_is_answered_before(tmp_path: Path) -> None:
    kept(Spool(tmp_path, device_id=DEVICE), 1, 2)
    api, uploader = FakeFootageApi(footage_ask(T0, T0 + 5)), FakeUploader(up=False)
    device = poller(tmp_path, api, uploader, Clock(T0 + 100))
    device.tick()
    assert api.answers == [] and uploader.attempts == 1
    uploader.up = True
    device.tick()
    assert uploader.attempts == 2 and [a.status for a in api.answers] == ["uploaded"]


def test_a_lost_answer_is_sent_again_without_a_second_upload(tmp_path: Path) -> None:
    kept(Spool(tmp_path, device_id=DEVICE), 1, 2)
    api, uploader = FakeFootageApi(footage_ask(T0, T0 + 5)), FakeUploader()
    device = poller(tmp_path, api, uploader, Clock(T0 + 100))
    api.refuse = ServiceRefused("footage result answered 400", status=400, error="bad_request")
    device.tick()
    assert uploader.attempts == 1 and api.answers == []
    api.refuse = None
    device.tick()
    assert uploader.attempts == 1 and len(api.answers) == 1


def test_a_request_in_hand_survives_a_restart_even_with_the_stack_unreachable(tmp_path: Path) -> None:
    kept(Spool(tmp_path, device_id=DEVICE), 1, 2)
    clock = Clock(T0 + 1)  # seen before its range is over, then the device restarts
    api, uploader = FakeFootageApi(footage_ask(T0, T0 + 1.0)), FakeUploader()
    poller(tmp_path, api, uploader, clock).tick()
    assert (tmp_path / FOOTAGE / f"{REQUEST_ID}.json").exists() and uploader.attempts == 0

    api.down = True  # the new run cannot even read its requests: what it has in hand goes on
    clock.now = T0 + 100
    restarted = poller(tmp_path, api, uploader, clock)
    restarted.tick()
    assert list(uploader.objects) == [footage_key(DEVICE, REQUEST_ID)] and api.answers == []
    api.down = False
    restarted.tick()
    assert len(api.answers) == 1 and uploader.attempts == 1


def test_an_answer_the_stack_already_has_otherwise_is_not_sent_forever(tmp_path: Path) -> None:
    api, uploader = FakeFootageApi(footage_ask(T0, T0 + 5)), FakeUploader()
    device = poller(tmp_path, api, uploader, Clock(T0 + 100))
    api.refuse = ServiceRefused("footage result answered 409", status=409, error="already_answered")
    device.tick()
    record = device.store.load(REQUEST_ID)
    assert record is not None and record.answered


def test_the_poller_thread_polls_at_once_and_stops(tmp_path: Path) -> None:
    api = FakeFootageApi()
    device = FootagePoller(Spool(tmp_path, device_id=DEVICE), api, FakeUploader(), every_s=3600.0)
    device.start()
    device.close(timeout_s=5.0)
    assert api.polls == 1
