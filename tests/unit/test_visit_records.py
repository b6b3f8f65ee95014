"""A visit's record in DynamoDB (moto): the device's reports update it, the console's review survives them."""
from __future__ import annotations

from typing import Any

import boto3
import pytest

from facegate_contract import clip_key
from facegate_contract.wire import VisitReport, convert
from recognizer.control.visit_reports import VisitReports
from services.visit_log import get_visit, set_review

VISIT = "20261129T101010.000Z-1a2b3c4d"
KEY = clip_key("door-1", "20261129T101010.500Z-000007")


@pytest.fixture
def table(mocked_aws: None) -> Any:
    return boto3.resource("dynamodb").create_table(
        TableName="sightings", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "person", "KeyType": "HASH"}, {"AttributeName": "seen_at", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("person", "seen_at")])


def _report(**changes: Any) -> VisitReport:
    report = {"visit_id": VISIT, "first_at": 1795947010.0, "last_at": 1795947012.5, "decision": "unknown",
              "confidence": 0.8, "agreeing": 3, "keys": [KEY], "conflicts": [], "ended": False,
              "evidence": [{"key": KEY, "name": "unknown", "confidence": 0.8, "at": 1795947010.5}]}
    return convert({**report, **changes}, VisitReport)


def test_the_final_report_keeps_the_review_and_replaces_what_the_device_said(table: Any) -> None:
    reports = VisitReports(table)
    reports.report("door-1", _report())
    set_review(table, VISIT, "ignored")
    reports.report("door-1", _report(ended=True, last_at=1795947014.0, confidence=None))

    visit = get_visit(table, VISIT)
    assert visit is not None and visit.review == "ignored"
    assert visit.ended and visit.duration_s == 4.0 and visit.device == "door-1"
    assert visit.confidence is None  # a value the latest report no longer has is gone, not stale


def test_a_device_cannot_overwrite_another_devices_visit(table: Any) -> None:
    from recognizer.api.event import RequestError

    reports = VisitReports(table)
    reports.report("door-1", _report())
    theirs = _report(keys=[clip_key("door-2", "20261129T101010.500Z-000007")], evidence=[], decision="Eileen_Collins")
    with pytest.raises(RequestError) as refused:
        reports.report("door-2", theirs)
    assert (refused.value.status, refused.value.kind) == (403, "not_your_visit")
    visit = get_visit(table, VISIT)
    assert visit is not None and visit.device == "door-1" and visit.decision == "unknown"


def test_a_sighting_of_another_devices_clip_id_is_its_own_item(table: Any) -> None:
    from types import SimpleNamespace

    from recognizer.recognize.sightings_log import SightingsLog

    log = SightingsLog(table)
    face = SimpleNamespace(identity=SimpleNamespace(name="Eileen_Collins", confidence=0.9))
    clip = "20261129T101010.500Z-000007"
    [mine] = log.record([face], "door-1", clip_key("door-1", clip), "v1")
    [theirs] = log.record([face], "door-2", clip_key("door-2", clip), "v1")  # the same clip id, another device
    assert mine and theirs and mine != theirs
    items = table.scan()["Items"]
    assert sorted(i["device"] for i in items) == ["door-1", "door-2"]


def test_conflicts_keep_the_enrolled_names_only(table: Any) -> None:
    VisitReports(table).report("door-1", _report(conflicts=["Laura_Bush", "unknown", "Hans_Blix"]))
    visit = get_visit(table, VISIT)
    assert visit is not None and list(visit.conflicts) == ["Laura_Bush", "Hans_Blix"]


def test_a_visit_item_names_its_clips_by_id_and_reads_back_their_keys(table: Any) -> None:
    other = clip_key("door-1", "20261129T101011.000Z-000008")
    VisitReports(table).report("door-1", _report(keys=[KEY, other]))
    item = table.get_item(Key={"person": "#visit", "seen_at": VISIT})["Item"]
    assert item["clip_ids"] == ["20261129T101010.500Z-000007", "20261129T101011.000Z-000008"]
    assert "keys" not in item and "visit_id" not in item  # a report is billed by the kilobyte: no full keys, no copies
    assert item["evidence"][0]["clip"] == "20261129T101010.500Z-000007" and "key" not in item["evidence"][0]
    visit = get_visit(table, VISIT)
    assert visit is not None and visit.visit_id == VISIT
    assert visit.keys == [KEY, other] and visit.evidence[0]["key"] == KEY and visit.best_key == KEY


def test_a_visit_item_written_with_full_keys_still_reads(table: Any) -> None:
    table.put_item(Item={"person": "#visit", "seen_at": VISIT, "visit_id": VISIT, "device": "door-1", "clips": 1,
                         "keys": [KEY], "evidence": [{"key": KEY, "name": "unknown"}], "decision": "unknown"})
    visit = get_visit(table, VISIT)
    assert visit is not None and visit.keys == [KEY] and visit.evidence == [{"key": KEY, "name": "unknown"}]
    set_review(table, VISIT, "ignored")
    assert get_visit(table, VISIT).review == "ignored"  # type: ignore[union-attr]


def test_a_key_whose_folder_is_not_its_clips_day_is_refused(table: Any) -> None:
    from recognizer.api.event import RequestError

    misfiled = KEY.replace("/2026/11/29/", "/2026/11/30/")  # the contract's pattern takes it; no clip is stored there
    with pytest.raises(RequestError) as refused:
        VisitReports(table).report("door-1", _report(keys=[misfiled]))
    assert (refused.value.status, refused.value.kind) == (400, "bad_visit")
    assert "Item" not in table.get_item(Key={"person": "#visit", "seen_at": VISIT})


def test_a_review_of_a_visit_that_is_not_there_is_refused(table: Any) -> None:
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        set_review(table, VISIT, "ignored")
    assert "Item" not in table.get_item(Key={"person": "#visit", "seen_at": VISIT})
