"""The contract's wire types: one definition for the recognizer, the device and the API's OpenAPI document."""
from __future__ import annotations

import json

import pytest

from facegate_contract import clip_key, openapi
from facegate_contract.wire import (ANSWERS, REQUESTS, Box, Face, RecognizeAnswer, UploadRequest, VisitReport,
                                    WireError, decode, encode)

CLIP = "20261129T101010.500Z-000007"


def test_the_shipped_openapi_document_is_generated_from_the_types() -> None:
    from tests.conftest import ROOT

    assert (ROOT / "docs" / "openapi.json").read_text() == openapi.render()


def test_every_route_has_its_request_and_answer_in_the_document() -> None:
    document = openapi.document()
    schemas = document["components"]["schemas"]
    for path, kind in REQUESTS.items():
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{kind.__name__}"}
    for path, kind in ANSWERS.items():
        assert kind.__name__ in schemas and "200" in document["paths"][path]["post"]["responses"]
    assert document["paths"]["/recognize"]["post"]["requestBody"]["content"].keys() == {"image/jpeg", "image/png"}
    clip = schemas["UploadRequest"]["properties"]["clip"]["anyOf"]  # a clip id, or null when a bundle is named
    assert next(s for s in clip if s.get("type") == "string")["pattern"].startswith("^[0-9]{8}T")
    bundle = schemas["UploadRequest"]["properties"]["bundle"]["anyOf"]
    assert next(s for s in bundle if s.get("type") == "string")["pattern"].endswith("\\.zip$")


def test_a_face_answer_round_trips_and_says_null_for_no_distance() -> None:
    answer = RecognizeAnswer(faces=[Face(name="unknown", confidence=0.5, box=Box(1, 2, 30, 40, 0.99), distance=None)],
                             model_version="v1")
    data = json.loads(encode(answer))
    assert data["faces"][0]["distance"] is None and data["faces"][0]["details"] == {}
    assert decode(encode(answer), RecognizeAnswer) == answer


@pytest.mark.parametrize("body", [
    b'{"faces": [{"name": "unknown", "confidence": 1.5, "box": {"x1": 1, "y1": 2, "x2": 3, "y2": 4}}], "model_version": "v"}',
    b'{"faces": [{"name": "eileen", "confidence": 0.5, "box": {"x1": 1, "y1": 2, "x2": 3, "y2": 4}}], "model_version": "v"}',
    b'{"faces": [{"name": "unknown", "confidence": 0.5, "box": {"x1": 3, "y1": 2, "x2": 1, "y2": 4}}], "model_version": "v"}',
], ids=["confidence above 1", "not a label", "an empty box"])
def test_an_answer_out_of_contract_is_refused(body: bytes) -> None:
    with pytest.raises(WireError):
        decode(body, RecognizeAnswer)


def test_ids_are_ascii_and_whole() -> None:
    assert decode(json.dumps({"clip": CLIP, "size": 1}), UploadRequest).clip == CLIP
    for bad in (CLIP + "\n", CLIP[:-1] + "\u0667", " " + CLIP):
        with pytest.raises(WireError) as refused:
            decode(json.dumps({"clip": bad, "size": 1}), UploadRequest)
        assert "clip" in str(refused.value)


def test_a_visit_report_names_the_field_that_is_wrong() -> None:
    report = {"visit_id": "20261129T101010.500Z-1a2b3c4d", "first_at": 1795947010.5, "last_at": 1795947012.0,
              "keys": [clip_key("door-1", CLIP)], "agreeing": 10 ** 9}
    with pytest.raises(WireError) as refused:
        decode(json.dumps(report), VisitReport)
    assert refused.value.field == "agreeing" and not refused.value.malformed
    with pytest.raises(WireError) as refused:
        decode(b'{"visit_id": NaN}', VisitReport)
    assert refused.value.malformed


def test_a_bundle_key_is_under_the_devices_own_day_and_parses_back() -> None:
    from facegate_contract import bundle_key, parse_bundle_key, parse_clip_key

    visit = "20261129T101010.500Z-1a2b3c4d"
    key = bundle_key("door-1", visit)
    assert key == "clips/door-1/2026/11/29/20261129T101010.500Z-1a2b3c4d.zip"
    assert parse_bundle_key(key) == ("door-1", visit)
    assert parse_clip_key(key) is None  # a bundle is never taken for a clip
    assert parse_bundle_key(clip_key("door-1", CLIP)) is None
    assert parse_bundle_key(key.replace("/29/", "/28/")) is None  # its day is the visit's
    assert parse_bundle_key(key + "\n") is None


def test_a_visit_report_may_name_its_bundle_but_only_a_bundle_key() -> None:
    report = {"visit_id": "20261129T101010.500Z-1a2b3c4d", "first_at": 1.0, "last_at": 2.0}
    bundle = "clips/door-1/2026/11/29/20261129T101010.500Z-1a2b3c4d.zip"
    assert decode(json.dumps({**report, "bundle": bundle}), VisitReport).bundle == bundle
    assert decode(json.dumps(report), VisitReport).bundle is None
    with pytest.raises(WireError):
        decode(json.dumps({**report, "bundle": clip_key("door-1", CLIP)}), VisitReport)


@pytest.mark.parametrize("recursion_limit", [1000, 2 ** 14])
def test_json_nested_too_deep_is_malformed_whatever_the_recursion_limit(recursion_limit: int) -> None:
    """mypy, run in the same process by test_types, raises the limit: a deep unknown field was then accepted."""
    import sys

    from facegate_contract.wire import MAX_JSON_DEPTH, ClipLinkRequest, WireError, decode

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(recursion_limit)
    try:
        key = '"clips/door-1/2026/11/29/20261129T101010.500Z-000007.mp4"'
        deep = "[" * 5000 + "]" * 5000
        with pytest.raises(WireError) as refused:
            decode(f'{{"key": {key}, "extra": {deep}}}', ClipLinkRequest)
        assert refused.value.malformed
        within = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)  # with the object itself: the limit
        text = '"' + "[{" * 40 + '\\" ]"'  # brackets and an escaped quote inside a string do not count
        assert decode(f'{{"key": {key}, "extra": {within}, "note": {text}}}', ClipLinkRequest).key in key
    finally:
        sys.setrecursionlimit(old)
