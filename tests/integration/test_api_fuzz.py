"""The device API under hostile input, against the running emulator stack: a property-based fuzz run generated from
the OpenAPI document (itself generated from the contract's types), and a second device trying every route on the
first one's ids and records (door and footage requests too).

    .venv/bin/python -m pytest tests/integration/test_api_fuzz.py   # FACEGATE_FUZZ_EXAMPLES=N per route (200)

Every answer must be a 2xx or a 4xx `{error, message}`: never a 5xx, never a dropped connection, and nothing the
fuzzing device sends may change a record of another device.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from facegate_contract import VISIT_PARTITION, DeviceFile, StackOutputs, clip_key, footage_key
from services.footage_log import request_footage
from services.target import Target
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures"

pytestmark = pytest.mark.integration

SCHEMA = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
EXAMPLES = int(os.environ.get("FACEGATE_FUZZ_EXAMPLES", "200"))
CLIP = "20261204T101010.500Z-000001"
VISIT = "20261204T101010.500Z-0badc0de"
DOOR_REQUEST = "20261204T101011.000Z-0badd000"


def _post(device: DeviceFile, path: str, body: bytes | dict[str, Any], **headers: str) -> requests.Response:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    content_type = "application/json" if isinstance(body, dict) else "image/jpeg"
    return requests.post(device.api_url.rstrip("/") + path, data=data, timeout=60,
                         headers={"x-api-key": device.api_key, "Content-Type": content_type, **headers})


def _records_of(target: Target, outputs: StackOutputs, device_id: str) -> list[dict[str, Any]]:
    table = target.resource("dynamodb").Table(outputs.sightings_table)
    items, page = [], {}
    while True:
        answer = table.scan(**page)
        items += [i for i in answer["Items"] if i.get("device") == device_id]
        if "LastEvaluatedKey" not in answer:
            return sorted(items, key=lambda i: (i["person"], i["seen_at"]))
        page = {"ExclusiveStartKey": answer["LastEvaluatedKey"]}


@pytest.fixture(scope="module")
def owner(add_device: Any, enrolled: StackOutputs) -> DeviceFile:
    """Device B: one recognised frame of its clip (a sighting) and a visit report of it, before anyone fuzzes."""
    device = DeviceFile.read(add_device("fuzz-owner"))
    frame = (FIXTURES / "images" / "probe_eileen_collins.jpg").read_bytes()
    key = clip_key(device.device_id, CLIP)
    recognised = _post(device, "/recognize", frame, **{"X-Facegate-Clip-Key": key})
    assert recognised.status_code == 200, recognised.text
    sighting = recognised.json()["faces"][0]["sighting_id"]
    report = {"visit_id": VISIT, "first_at": time.time() - 2, "last_at": time.time(), "decision": "Eileen_Collins",
              "confidence": 0.9, "agreeing": 1, "keys": [key], "ended": True,
              "evidence": [{"key": key, "name": "Eileen_Collins", "confidence": 0.9, "sighting_id": sighting}]}
    stored = _post(device, "/visits", report)
    assert stored.status_code == 200, stored.text
    filed = _post(device, "/door-requests", {"request_id": DOOR_REQUEST, "visit_id": VISIT, "name": "Eileen_Collins",
                                              "clip_key": key, "expires_in": 60})
    assert filed.status_code == 200, filed.text
    return device


@pytest.fixture(scope="module")
def owner_footage(owner: DeviceFile, target: Target, deployed: tuple[StackOutputs, Path]) -> str:
    """A footage request for device B's kept clips, as the console makes it; returns its id."""
    table = target.resource("dynamodb").Table(deployed[0].sightings_table)
    return request_footage(table, owner.device_id, time.time() - 120, time.time() - 60, "fuzz", time.time()).request_id


@pytest.fixture(scope="module")
def intruder(add_device: Any, deployed: tuple[StackOutputs, Path]) -> DeviceFile:
    """Device A: the one that fuzzes and trespasses."""
    return DeviceFile.read(add_device("fuzz-intruder"))


def test_another_device_cannot_touch_the_owners_clips_sightings_or_visits(owner: DeviceFile, intruder: DeviceFile,
                                                                          owner_footage: str, target: Target,
                                                                          deployed: tuple[StackOutputs, Path]) -> None:
    before = _records_of(target, deployed[0], owner.device_id)
    assert {i["person"] for i in before} >= {"Eileen_Collins", VISIT_PARTITION}
    theirs = clip_key(owner.device_id, CLIP)
    frame = (FIXTURES / "images" / "probe_eileen_collins.jpg").read_bytes()
    tries = {
        "recognize naming their clip": _post(intruder, "/recognize", frame, **{"X-Facegate-Clip-Key": theirs}),
        "link to their clip": _post(intruder, "/clip-links", {"key": theirs}),
        "report their clip": _post(intruder, "/visits", {"visit_id": VISIT.replace("0badc0de", "0000beef"),
                                                         "first_at": 1.0, "last_at": 2.0, "keys": [theirs]}),
        "report their visit id": _post(intruder, "/visits", {"visit_id": VISIT, "first_at": 1.0, "last_at": 2.0,
                                                              "decision": "unknown"}),
        "read their door request": _post(intruder, "/door-request-status", {"request_id": DOOR_REQUEST}),
        "file their door request id": _post(intruder, "/door-requests", {
            "request_id": DOOR_REQUEST, "visit_id": VISIT, "name": "Eileen_Collins", "expires_in": 60}),
        "show their clip at the door": _post(intruder, "/door-requests", {
            "request_id": DOOR_REQUEST.replace("0badd000", "0000d00b"), "visit_id": VISIT, "name": "Eileen_Collins",
            "clip_key": theirs}),
        "answer their footage request": _post(intruder, "/footage-results", {"request_id": owner_footage,
                                                                             "status": "nothing_kept"}),
        "upload their footage bundle": _post(intruder, "/uploads", {
            "bundle": footage_key(owner.device_id, owner_footage), "size": 1000}),
    }
    assert {what: r.status_code for what, r in tries.items()} == {what: 403 for what in tries}
    # Its own clip with their clip id: allowed, and recorded as its own sighting, not over theirs.
    mine = _post(intruder, "/recognize", frame, **{"X-Facegate-Clip-Key": clip_key(intruder.device_id, CLIP)})
    assert mine.status_code == 200
    upload = _post(intruder, "/uploads", {"clip": CLIP, "size": 1000})
    assert upload.status_code == 200 and upload.json()["key"].startswith(f"clips/{intruder.device_id}/")
    assert _post(intruder, "/footage-requests", {}).json() == {"requests": []}  # it sees none of theirs
    assert _records_of(target, deployed[0], owner.device_id) == before


@pytest.fixture(scope="module")
def fuzz_state(owner: DeviceFile, intruder: DeviceFile, target: Target,
               deployed: tuple[StackOutputs, Path]) -> dict[str, Any]:
    state = {"before": _records_of(target, deployed[0], owner.device_id), "answers": {}}
    yield state
    assert _records_of(target, deployed[0], owner.device_id) == state["before"], "the fuzz changed another's record"
    print(f"fuzz: {sum(state['answers'].values())} requests, answers by status {dict(sorted(state['answers'].items()))}")


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_no_body_or_header_gets_a_5xx(case: Any, intruder: DeviceFile, fuzz_state: dict[str, Any]) -> None:
    case.headers = {**(case.headers or {}), "x-api-key": intruder.api_key}
    for _ in range(60):  # the stage throttles (50 requests/s): wait for the case's turn, as a device does
        response = case.call(base_url=intruder.api_url)
        if response.status_code != 429:
            break
        time.sleep(0.25)
    fuzz_state["answers"][response.status_code] = fuzz_state["answers"].get(response.status_code, 0) + 1
    assert response.status_code < 500, f"{case.method} {case.path} → {response.status_code}: {response.text[:300]}"
    # An HTTP API answers a CORS preflight (OPTIONS) itself, before any route: no function of ours sees it.
    if response.status_code >= 400 and response.status_code != 429 and case.method.upper() != "OPTIONS":
        body = response.json()
        assert set(body) >= {"error", "message"}, body
