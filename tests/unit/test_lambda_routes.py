"""The Lambda's device-facing routes: the device comes from its API key, signed URLs only for its own clips,
header limits, and answers that survive a DynamoDB fault."""
from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from facegate_contract import api_key_hash, bundle_key, clip_key, visit_clips
from recognizer.classify.open_set import OpenSetClassifier
from recognizer.control.clip_transfers import ClipTransfers
from recognizer.control.service import ControlService
from recognizer.api.device_identity import DeviceDirectory
from recognizer.classify.model_source import ModelSource
from recognizer.recognize.people_details import PeopleDirectory
from recognizer.pipeline import FacePipeline
from recognizer.recognize.service import RecognizerService
from recognizer.recognize.sightings_log import SightingsLog
from recognizer.control.visit_reports import VisitReports
from recognizer.api.event import RequestError, route

CLIP = "20261129T101010.500Z-000007"
KEYS = {"key-door-1": "door-1", "key-door-2": "door-2"}


class Table:
    """A DynamoDB Table stand-in keeping items in memory; `fail` makes the next calls raise."""

    def __init__(self, items: dict[str, dict[str, Any]] | None = None, hash_key: str = "key_hash") -> None:
        self.items = items or {}
        self.hash_key = hash_key
        self.fail = 0
        self.puts: list[dict[str, Any]] = []
        self.updates = 0  # UpdateItem calls (each a billed write)

    def _maybe_fail(self) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("DynamoDB is unreachable")

    def get_item(self, Key: dict[str, str]) -> dict[str, Any]:  # noqa: N803 - boto3's spelling
        self._maybe_fail()
        item = self.items.get(Key[self.hash_key])
        return {"Item": item} if item else {}

    def put_item(self, Item: dict[str, Any], **_: Any) -> None:  # noqa: N803
        self._maybe_fail()
        self.puts.append(Item)

    def update_item(self, Key: dict[str, str], ExpressionAttributeValues: dict[str, Any],  # noqa: N803
                    ExpressionAttributeNames: dict[str, str] | None = None, UpdateExpression: str = "",  # noqa: N803
                    **_: Any) -> None:
        """Named attributes: an upsert (`SET #a0 = :v0, ... [REMOVE #a3]`, a visit report). Otherwise a sighting
        tagged with its visit, only the calling device's own (the condition the real call carries)."""
        self._maybe_fail()
        self.updates += 1
        item = next((p for p in self.puts if p["person"] == Key["person"] and p["seen_at"] == Key["seen_at"]), None)
        if ExpressionAttributeNames:
            if item is None:
                item = dict(Key)
                self.puts.append(item)
            sets, _, removes = UpdateExpression.removeprefix("SET ").partition(" REMOVE ")
            for clause in sets.split(", "):
                name, value = clause.split(" = ")
                item[ExpressionAttributeNames[name]] = ExpressionAttributeValues[value]
            for name in filter(None, removes.split(", ")):
                item.pop(ExpressionAttributeNames[name], None)
            return
        if item is None or item.get("device") != ExpressionAttributeValues[":d"]:
            raise RuntimeError("ConditionalCheckFailedException")
        item["visit_id"] = ExpressionAttributeValues[":v"]


def devices_table() -> Table:
    return Table({api_key_hash(k): {"key_hash": api_key_hash(k), "device_id": d} for k, d in KEYS.items()})


def proxy_event(path: str, body: bytes, key: str = "key-door-1", content_type: str = "application/json",
                **headers: str) -> dict[str, Any]:
    """The event the deployed HTTP API sends (payload format 2.0: lower-case headers, the stage in the path)."""
    binary = content_type.startswith("image/")
    sent = {"Content-Type": content_type, "x-api-key": key, "Host": "localhost:4566", **headers}
    return {"version": "2.0", "routeKey": f"ANY {path}", "rawPath": f"/live{path}",
            "requestContext": {"http": {"method": "POST", "path": f"/live{path}"}, "stage": "live"},
            "headers": {name.lower(): value for name, value in sent.items()},
            "body": base64.b64encode(body).decode() if binary else body.decode(), "isBase64Encoded": binary}


def answer(service: RecognizerService, evt: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = service.handle(evt)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture(scope="module")
def pipeline() -> FacePipeline:
    return FacePipeline.load("dlib")


@pytest.fixture
def s3_presigner(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")

    def make(endpoint: str | None) -> Any:
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    return make


@pytest.fixture
def tables() -> dict[str, Table]:
    return {"devices": devices_table(), "sightings": Table(hash_key="person"),
            "people": Table({"Eileen_Collins": {"person": "Eileen_Collins", "allow_entry": True}}, hash_key="person")}


@pytest.fixture
def service(pipeline: FacePipeline, tables: dict[str, Table], s3_presigner, enrol_images) -> RecognizerService:
    from recognizer.training.fit import embed_images
    from recognizer.training.dataset import LabelledImage

    embedded = embed_images(pipeline, [LabelledImage(p, "Eileen_Collins") for p in enrol_images])
    classifier = OpenSetClassifier.empty("dlib", 0.55).with_person("Eileen_Collins", embedded.embeddings)
    models = ModelSource(classifier)
    return RecognizerService(pipeline, models, people=PeopleDirectory(tables["people"]),
                             sightings=SightingsLog(tables["sightings"], retention_days=30),
                             devices=DeviceDirectory(tables["devices"]))


@pytest.fixture
def control(tables: dict[str, Table], s3_presigner) -> ControlService:
    return ControlService(ClipTransfers("clips-bucket", s3_presigner, "request-host"),
                          VisitReports(tables["sightings"]), devices=DeviceDirectory(tables["devices"]))


def test_the_device_is_the_api_keys_not_the_header(service: RecognizerService, tables, probe_jpeg: bytes) -> None:
    evt = proxy_event("/recognize", probe_jpeg, content_type="image/jpeg", **{"X-Facegate-Device": "door-2"})
    status, body = answer(service, evt)
    assert status == 200 and body["faces"][0]["name"] == "Eileen_Collins"
    [item] = tables["sightings"].puts
    assert item["device"] == "door-1"
    assert body["faces"][0]["sighting_id"] == item["seen_at"]
    assert 29 * 86400 < item["expires_at"] - time.time() <= 30 * 86400  # expires with the clips


def test_an_unregistered_key_is_403(service: RecognizerService, probe_jpeg: bytes) -> None:
    status, body = answer(service, proxy_event("/recognize", probe_jpeg, key="stolen", content_type="image/jpeg"))
    assert (status, body["error"]) == (403, "unknown_device")


def test_an_upload_url_is_signed_for_the_callers_own_key_and_host(control: ControlService) -> None:
    request = {"clip": CLIP, "size": 4321, "metadata": {"recognition": "recognised", "names": "Eileen_Collins"}}
    status, body = answer(control, proxy_event("/uploads", json.dumps(request).encode()))
    assert status == 200
    assert body["key"] == clip_key("door-1", CLIP)
    url = urlsplit(body["url"])
    assert url.netloc == "localhost:4566" and url.path == f"/clips-bucket/{body['key']}"
    signed = parse_qs(url.query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-length", "content-type", "x-amz-meta-names", "x-amz-meta-recognition"} <= set(signed)
    assert body["headers"]["Content-Length"] == "4321"  # S3 takes exactly the clip's length through this URL
    assert body["headers"]["x-amz-meta-names"] == "Eileen_Collins"


@pytest.mark.parametrize(("request_body", "error"), [
    ({"clip": "../../door-2/x", "size": 10}, "bad_clip_id"),
    ({"clip": CLIP, "size": 10, "metadata": {"bad key!": "x"}}, "bad_metadata"),
    ({"clip": CLIP, "size": 10, "metadata": {"names": "é"}}, "bad_metadata"),
    ({"clip": CLIP, "size": 10, "metadata": {"n": "x" * 2000}}, "bad_metadata"),
    ({"clip": CLIP}, "bad_size"), ({"clip": CLIP, "size": 0}, "bad_size"),
    ({"clip": CLIP, "size": 32 * 1024 * 1024 + 1}, "bad_size"),
])
def test_a_bad_upload_request_is_400(control: ControlService, request_body: dict, error: str) -> None:
    status, body = answer(control, proxy_event("/uploads", json.dumps(request_body).encode()))
    assert (status, body["error"]) == (400, error)


BUNDLE_VISIT = "20261129T101010.500Z-1a2b3c4d"


def test_an_upload_url_for_the_devices_own_visit_bundle_is_a_zip_put(control: ControlService) -> None:
    request = {"bundle": bundle_key("door-1", BUNDLE_VISIT), "size": 98765, "metadata": {"clips": "6"}}
    status, body = answer(control, proxy_event("/uploads", json.dumps(request).encode()))
    assert status == 200
    assert body["key"] == "clips/door-1/2026/11/29/20261129T101010.500Z-1a2b3c4d.zip"
    assert urlsplit(body["url"]).path == f"/clips-bucket/{body['key']}"
    assert body["headers"]["Content-Type"] == "application/zip"  # signed: the PUT must send it
    assert body["headers"]["Content-Length"] == "98765"


def test_a_device_cannot_upload_another_devices_bundle(control: ControlService) -> None:
    request = {"bundle": bundle_key("door-2", BUNDLE_VISIT), "size": 10}
    status, body = answer(control, proxy_event("/uploads", json.dumps(request).encode()))
    assert (status, body["error"]) == (403, "not_your_clip")
    assert "own bundles" in body["message"]


@pytest.mark.parametrize(("request_body", "error"), [
    ({"bundle": "clips/door-1/2026/11/29/not-a-visit.zip", "size": 10}, "bad_bundle_key"),
    ({"bundle": bundle_key("door-1", BUNDLE_VISIT), "size": 32 * 1024 * 1024 + 1}, "bad_size"),
    ({"bundle": bundle_key("door-1", BUNDLE_VISIT), "clip": CLIP, "size": 10}, "bad_clip_id"),
    ({"size": 10}, "bad_clip_id"),
])
def test_a_bad_bundle_upload_request_is_400(control: ControlService, request_body: dict, error: str) -> None:
    status, body = answer(control, proxy_event("/uploads", json.dumps(request_body).encode()))
    assert (status, body["error"]) == (400, error) and body["message"]


def test_a_device_cannot_link_to_another_devices_clip(control: ControlService) -> None:
    mine = {"key": clip_key("door-1", CLIP), "expires_in": 600}
    theirs = {"key": clip_key("door-2", CLIP), "expires_in": 600}
    assert answer(control, proxy_event("/clip-links", json.dumps(mine).encode()))[0] == 200
    status, body = answer(control, proxy_event("/clip-links", json.dumps(theirs).encode()))
    assert (status, body["error"]) == (403, "not_your_clip")


def test_a_device_cannot_claim_another_devices_clip_key(service: RecognizerService, probe_jpeg: bytes) -> None:
    evt = proxy_event("/recognize", probe_jpeg, content_type="image/jpeg",
                      **{"X-Facegate-Clip-Key": clip_key("door-2", CLIP)})
    status, body = answer(service, evt)
    assert (status, body["error"]) == (403, "not_your_clip")


@pytest.mark.parametrize(("value", "error"), [
    ("clips/" + "a" * 600, "bad_header"), ("../../etc/passwd", "bad_header"), ("clips/door-1/\u00e9.mp4", "bad_header"),
])
def test_clip_key_headers_are_checked(service: RecognizerService, probe_jpeg: bytes, value: str, error: str) -> None:
    evt = proxy_event("/recognize", probe_jpeg, content_type="image/jpeg", **{"X-Facegate-Clip-Key": value})
    status, body = answer(service, evt)
    assert (status, body["error"]) == (400, error)


def test_the_header_limit_is_checked_at_its_boundary(service: RecognizerService, probe_jpeg: bytes) -> None:
    from recognizer.api.event import MAX_HEADER_CHARS, checked_header

    assert checked_header({"headers": {"X-A": "a" * MAX_HEADER_CHARS}}, "X-A") == "a" * MAX_HEADER_CHARS
    status, _ = answer(service, proxy_event("/recognize", probe_jpeg, content_type="image/jpeg",
                                            **{"X-Facegate-Clip-Key": "a" * (MAX_HEADER_CHARS + 1)}))
    assert status == 400


def test_the_answer_survives_dynamodb_faults(service: RecognizerService, tables, probe_jpeg: bytes) -> None:
    tables["people"].fail = 1  # details lookup
    tables["sightings"].fail = 2  # the write and its one retry
    status, body = answer(service, proxy_event("/recognize", probe_jpeg, content_type="image/jpeg"))
    assert status == 200
    face = body["faces"][0]
    assert face["name"] == "Eileen_Collins" and face["details_unavailable"] is True and face["details"] == {}
    assert face["sighting_id"] is None and tables["sightings"].puts == []


def test_a_sighting_write_is_retried_once(service: RecognizerService, tables, probe_jpeg: bytes) -> None:
    tables["sightings"].fail = 1
    status, body = answer(service, proxy_event("/recognize", probe_jpeg, content_type="image/jpeg"))
    assert status == 200 and body["faces"][0]["sighting_id"] and len(tables["sightings"].puts) == 1


def test_an_unreadable_device_registry_is_503_not_a_crash(service: RecognizerService, tables,
                                                          probe_jpeg: bytes) -> None:
    tables["devices"].fail = 1
    status, body = answer(service, proxy_event("/recognize", probe_jpeg, key="key-door-2", content_type="image/jpeg"))
    assert (status, body["error"]) == (503, "unavailable")


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"{" + b" " * 70000 + b"}"])
def test_json_routes_refuse_what_is_not_a_small_json_object(control: ControlService, raw: bytes) -> None:
    status, body = answer(control, proxy_event("/uploads", raw))
    assert status in (400, 413) and set(body) == {"error", "message"}


def test_a_frame_sent_again_for_the_same_clip_writes_the_same_sightings(service: RecognizerService, tables,
                                                                        probe_jpeg: bytes) -> None:
    evt = proxy_event("/recognize", probe_jpeg, content_type="image/jpeg",
                      **{"X-Facegate-Clip-Key": clip_key("door-1", CLIP)})
    first, again = answer(service, evt), answer(service, evt)  # the device crashed before saving the answer

    assert first[0] == again[0] == 200
    keys = [(p["person"], p["seen_at"]) for p in tables["sightings"].puts]
    assert len(keys) == 2 and keys[0] == keys[1]  # one item, written twice: no duplicate sighting
    assert keys[0][1].startswith("2026-11-29T10:10:10.500Z#door-1/" + CLIP)


VISIT = "20261129T101010.500Z-1a2b3c4d"


def visit_report(device: str = "door-1", **changes: Any) -> dict[str, Any]:
    key = clip_key(device, CLIP)
    report = {"visit_id": VISIT, "first_at": 1795947010.5, "last_at": 1795947012.0, "decision": "Eileen_Collins",
              "confidence": 0.93, "agreeing": 3, "keys": [key], "conflicts": [], "ended": True,
              "evidence": [{"key": key, "name": "Eileen_Collins", "confidence": 0.93, "at": 1795947010.5,
                            "box": {"x1": 10, "y1": 20, "x2": 70, "y2": 90}}]}
    report.update(changes)
    return report


def test_a_visit_report_is_one_write_and_its_sightings_are_found_by_its_clip_keys(
        control: ControlService, service, tables, probe_jpeg: bytes) -> None:
    recognised = answer(service, proxy_event("/recognize", probe_jpeg, content_type="image/jpeg",
                                             **{"X-Facegate-Clip-Key": clip_key("door-1", CLIP)}))[1]
    report = visit_report()
    report["evidence"][0]["sighting_id"] = recognised["faces"][0]["sighting_id"]
    status, body = answer(control, proxy_event("/visits", json.dumps(report).encode()))

    assert (status, body["clips"]) == (200, 1)
    stored = next(p for p in tables["sightings"].puts if p["person"] == "#visit")
    assert stored["seen_at"] == VISIT and stored["device"] == "door-1" and stored["decision"] == "Eileen_Collins"
    assert stored["expires_at"] > time.time() + 29 * 86400
    sighting = next(p for p in tables["sightings"].puts if p["person"] == "Eileen_Collins")
    keys, _ = visit_clips(stored)  # the item names its clips by id; read back, they are the sightings' clip keys
    assert sighting["clip_key"] in keys and "visit_id" not in sighting  # linked by key, not written again
    assert tables["sightings"].updates == 1  # the visit item, nothing else


def test_a_device_cannot_report_another_devices_clips_nor_touch_its_sightings(
        control: ControlService, service, tables, probe_jpeg: bytes) -> None:
    theirs = answer(service, proxy_event("/recognize", probe_jpeg, key="key-door-2", content_type="image/jpeg",
                                         **{"X-Facegate-Clip-Key": clip_key("door-2", CLIP)}))[1]
    status, body = answer(control, proxy_event("/visits", json.dumps(visit_report(device="door-2")).encode()))
    assert (status, body["error"]) == (403, "not_your_clip")
    report = visit_report()  # its own clips, but naming door-2's sighting
    report["evidence"][0]["sighting_id"] = theirs["faces"][0]["sighting_id"]
    status, body = answer(control, proxy_event("/visits", json.dumps(report).encode()))
    assert status == 200
    assert all("visit_id" not in p for p in tables["sightings"].puts if p.get("device") == "door-2")


def test_a_visit_report_keeps_its_bundle_and_refuses_another_devices(control: ControlService, tables) -> None:
    mine = visit_report(bundle=bundle_key("door-1", VISIT))
    assert answer(control, proxy_event("/visits", json.dumps(mine).encode()))[0] == 200
    stored = next(p for p in tables["sightings"].puts if p["person"] == "#visit")
    assert stored["bundle"] == bundle_key("door-1", VISIT)
    theirs = visit_report(bundle=bundle_key("door-2", VISIT))
    status, body = answer(control, proxy_event("/visits", json.dumps(theirs).encode()))
    assert (status, body["error"]) == (403, "not_your_clip")


@pytest.mark.parametrize("changes", [{"visit_id": "../x"}, {"first_at": "yesterday"}, {"decision": "eileen"},
                                     {"last_at": 1.0}], ids=["visit id", "time", "label", "ends before it starts"])
def test_a_malformed_visit_report_is_400(control: ControlService, changes: dict) -> None:
    status, body = answer(control, proxy_event("/visits", json.dumps(visit_report(**changes)).encode()))
    assert (status, body["error"]) == (400, "bad_visit")


def test_each_function_serves_only_its_own_routes(control: ControlService, service, probe_jpeg: bytes) -> None:
    assert answer(control, proxy_event("/recognize", probe_jpeg, content_type="image/jpeg"))[0] == 404
    assert answer(service, proxy_event("/uploads", json.dumps({"clip": CLIP, "size": 10}).encode()))[0] == 404


def _with(body: str, field: str, raw: str) -> bytes:
    """`body` (JSON) with `field`'s value replaced by `raw` JSON text (NaN and friends are not valid JSON)."""
    data = json.loads(body)
    data[field] = "@@"
    return json.dumps(data).replace('"@@"', raw).encode()


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(("route", "field", "raw", "error"), [
    ("/visits", "first_at", "NaN", "invalid_json"), ("/visits", "last_at", "Infinity", "invalid_json"),
    ("/visits", "first_at", "1e300", "bad_visit"), ("/visits", "confidence", "-Infinity", "invalid_json"),
    ("/visits", "confidence", "1e300", "bad_visit"), ("/visits", "agreeing", "1e400", "bad_visit"),
    ("/visits", "nested", DEEP, "invalid_json"), ("/uploads", "nested", DEEP, "invalid_json"),
    ("/clip-links", "nested", DEEP, "invalid_json"),
    ("/uploads", "clip", json.dumps(CLIP + "\n"), "bad_clip_id"),
    ("/uploads", "clip", json.dumps(CLIP[:-2] + "\u0664\u0662"), "bad_clip_id"),  # Arabic-Indic digits
    ("/clip-links", "expires_in", "1e400", "bad_expiry"), ("/clip-links", "expires_in", "true", "bad_expiry"),
    ("/clip-links", "key", json.dumps(clip_key("door-1", CLIP) + "\n"), "bad_clip_key"),
], ids=lambda v: v if len(str(v)) < 20 else str(v)[:12])
def test_hostile_json_is_a_clear_400_never_a_500(control: ControlService, route: str, field: str, raw: str,
                                                 error: str) -> None:
    """Hardening 3: 8 of 22 such probes of the JSON routes were 5xx before the contract's typed requests."""
    valid = {"/visits": json.dumps(visit_report()), "/uploads": json.dumps({"clip": CLIP, "size": 10}),
             "/clip-links": json.dumps({"key": clip_key("door-1", CLIP)})}[route]
    assert answer(control, proxy_event(route, valid.encode()))[0] == 200
    status, body = answer(control, proxy_event(route, _with(valid, field, raw)))
    assert (status, body["error"]) == (400, error), body
    assert body["message"]


@pytest.mark.parametrize(("path", "method", "expected"), [
    ("/recognize", "POST", "/recognize"), ("/visits", "POST", "/visits"),
    ("/recognize", "GET", 405), ("/nowhere", "POST", 404), ("/", "POST", 404)])
def test_both_proxy_event_shapes_name_the_same_route(path: str, method: str, expected: str | int) -> None:
    """Payload format 2.0 (the HTTP API's; an unknown path comes through its `$default` route) and 1.0 (a REST
    API's) reach the same route, or the same refusal."""
    v2 = {"version": "2.0", "routeKey": "$default" if expected == 404 else f"ANY {path}", "rawPath": f"/live{path}",
          "requestContext": {"http": {"method": method, "path": f"/live{path}"}, "stage": "live"}}
    v1 = {"httpMethod": method, "resource": path, "path": path}
    for evt in (v2, v1):
        if isinstance(expected, int):
            with pytest.raises(RequestError) as refused:
                route(evt)
            assert refused.value.status == expected
        else:
            assert route(evt) == expected
