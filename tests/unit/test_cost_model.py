"""The cost bench's day model (scripts/bench/cost.py): S3 PUTs and upload-URL requests are what the device made (a
visit's bundle counts one), not one per clip uploaded."""
from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def cost() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cost_bench", ROOT / "scripts" / "bench" / "cost.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(upload: str, puts: int) -> dict:
    """A replay of 200 clips: 40 with someone at the door in 4 visits, 16 of the empty ones uploaded with them."""
    return {"upload": upload, "clips": 200, "empty_clips": 160, "occupied_clips": 40, "sent_empty": 20,
            "empty_clips_beside_visit": 16, "sent_empty_beside_visit": 8, "sent_occupied": 40, "server_ms": [50.0], "faces": 40, "uploaded_empty": 16, "uploaded_occupied": 40,
            "visits": 4, "visit_reports": 8, "clip_bytes": 25_000.0, "puts": puts}


def test_a_bundle_a_visit_is_one_put_and_one_upload_url_whatever_its_clips(cost: ModuleType) -> None:
    bundled = cost.day_cost(_run("visits", puts=4), 0.9, 2.0, cost.API_PRICE["new"])  # one bundle for each of the 4 visits
    alone = cost.day_cost(_run("visits", puts=56), 0.9, 2.0, cost.API_PRICE["new"])  # the same 56 clips uploaded one by one

    assert bundled["clips_uploaded"] == alone["clips_uploaded"]  # the same footage is stored...
    assert bundled["usd"]["s3_storage"] == alone["usd"]["s3_storage"]
    assert bundled["puts"] == bundled["visits"] and alone["puts"] == 14 * alone["visits"]  # ...in far fewer PUTs
    assert bundled["usd"]["s3_puts"] == pytest.approx(alone["usd"]["s3_puts"] / 14, rel=1e-2)
    assert alone["control_calls"] - bundled["control_calls"] == alone["puts"] - bundled["puts"]
    assert bundled["usd"]["api_gateway"] < alone["usd"]["api_gateway"]


def test_the_old_pipeline_uploads_every_clip_alone(cost: ModuleType) -> None:
    old = cost.day_cost(_run("all", puts=200), 0.9, 2.0, cost.API_PRICE["old"])
    assert old["puts"] == old["clips_uploaded"] == cost.DAY_CLIPS


def test_api_gateway_is_priced_per_request_at_the_pipelines_api(cost: ModuleType) -> None:
    """The same requests cost 3.5 times as much through the old pipeline's REST API as through the HTTP API."""
    run = _run("visits", puts=4)
    http = cost.day_cost(run, 0.9, 2.0, cost.API_PRICE["new"])
    rest = cost.day_cost(run, 0.9, 2.0, cost.API_PRICE["old"])
    requests = http["frames_sent"] + http["control_calls"]
    assert http["usd"]["api_gateway"] == pytest.approx(requests * 1.00 / 1e6, rel=1e-2)
    assert rest["usd"]["api_gateway"] == pytest.approx(3.5 * http["usd"]["api_gateway"], rel=1e-2)


def test_the_reports_counted_are_the_ones_the_device_sent(cost: ModuleType) -> None:
    from facegate_contract.device_events import VisitDecided, VisitEnded, VisitReported

    def visit(kind: type, visit_id: str) -> object:
        return kind(visit_id=visit_id, first_at=1.0, last_at=2.0, decision="Laura_Bush", ended=kind is VisitEnded)

    events = [visit(VisitDecided, "v1"), visit(VisitEnded, "v1"), VisitReported(visit_id="v1", ended=True),
              visit(VisitDecided, "v2"), VisitReported(visit_id="v2"), visit(VisitEnded, "v2"),
              VisitReported(visit_id="v2", ended=True),
              visit(VisitDecided, "v3"), visit(VisitEnded, "v3")]  # v3 ended at shutdown: sent after the log closed
    # v1: its decided report was held and replaced by the final one; v2 lasted longer than the hold: both went.
    assert cost.reports_sent(events) == (4, 1)


def test_upload_grants_replace_a_url_per_upload_with_a_few_a_kind_an_hour(cost: ModuleType) -> None:
    per_url = cost.day_cost(_run("visits", puts=6), 0.9, 2.0, cost.API_PRICE["new"])
    granted = cost.day_cost({**_run("visits", puts=6), "grant_kinds": 2}, 0.9, 2.0, cost.API_PRICE["new"])

    assert granted["puts"] == per_url["puts"] and per_url["upload_asks"] == per_url["puts"]
    # Two kinds, each renewed 5 minutes before its 15 minutes end.
    assert granted["upload_asks"] == round(2 * 86_400 / (900 - 300))
    assert per_url["control_calls"] - granted["control_calls"] == per_url["puts"] - granted["upload_asks"]
    old = cost.day_cost({**_run("all", puts=6), "grant_kinds": 2}, 0.9, 2.0, cost.API_PRICE["old"])
    assert old["upload_asks"] == old["puts"]  # the old pipeline: a URL per clip


def test_a_visit_items_size_is_the_stored_items(cost: ModuleType, mocked_aws: None, tmp_path) -> None:
    """The bench bills a report by the size of the item the control function leaves: the same attributes (no None
    left in it) as DynamoDB keeps, and under 1 KB for a short visit now that clips are named by id."""
    import boto3

    from facegate_contract import DeviceFile, clip_key
    from facegate_contract.wire import VisitReport, convert
    from recognizer.control.visit_reports import VisitReports

    DeviceFile(device_id="door-1", api_url="http://localhost", api_key="k").write(tmp_path / "device.json")
    keys = [clip_key("door-1", f"20261129T1010{s:02d}.500Z-0000{s:02d}") for s in range(10, 16)]
    report = convert({"visit_id": "20261129T101010.000Z-1a2b3c4d", "first_at": 1795947010.0,
                      "last_at": 1795947015.5, "decision": "Eileen_Collins", "confidence": None, "agreeing": 2,
                      "keys": keys, "ended": True,
                      "evidence": [{"key": keys[1], "name": "Eileen_Collins", "confidence": 0.7, "at": 1795947011.5,
                                    "box": {"x1": 10.0, "y1": 20.0, "x2": 110.0, "y2": 140.0}},
                                   {"key": keys[3], "name": "Eileen_Collins", "at": 1795947013.5}]}, VisitReport)
    table = boto3.resource("dynamodb").create_table(
        TableName="sightings", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "person", "KeyType": "HASH"}, {"AttributeName": "seen_at", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("person", "seen_at")])
    VisitReports(table).report("door-1", report)
    stored = table.get_item(Key={"person": "#visit", "seen_at": report.visit_id})["Item"]

    assert cost.visit_item_bytes(report, tmp_path / "device.json", bundled=False) == cost.dynamodb_size(stored) - 3
    assert cost.visit_item_bytes(report, tmp_path / "device.json", bundled=False) < 1024  # one write unit
