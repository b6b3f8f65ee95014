"""Visit reports: kept on disk until the API has them, the latest per visit, none stranded by a missed wake-up."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from facegate_contract.device_events import (ClipRecognition, DeviceEvent, VisitAction, VisitDecided, VisitEnded,
                                             VisitEvent, VisitReported)
from facegate_contract.wire import VisitReport
from pi_app.transport.backoff import Backoff
from pi_app.transport.service_errors import ServiceRefused, ServiceUnavailable
from pi_app.transport.visit_reporter import VisitReporter

V1, V2 = "20261129T100000.000Z-00000001", "20261129T100001.000Z-00000002"


def _event(visit: str, decision: str = "Laura_Bush", kind: type[VisitEvent] = VisitEnded) -> VisitEvent:
    return kind(ts="2026-11-29T10:00:00Z", visit_id=visit, first_at=1_795_000_000.0, last_at=1_795_000_001.5,
                decision=decision, clips=["c1", "c2", "c3"], ended=kind is VisitEnded)


def _wait(predicate, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_a_report_is_sent_as_the_contracts_visit_report_and_deleted_once_delivered(tmp_path: Path) -> None:
    sent: list[VisitReport] = []
    reporter = VisitReporter(tmp_path, sent.append).start()
    reporter.handle(_event(V1))
    reporter.handle(ClipRecognition(clip="c9", status="recognised"))  # not a visit report
    assert _wait(lambda: reporter.sent == 1)
    reporter.close(1.0)
    assert sent == [VisitReport(visit_id=V1, first_at=1_795_000_000.0, last_at=1_795_000_001.5, decision="Laura_Bush",
                                ended=True)]
    assert reporter.pending() == []


def test_a_report_file_mangled_on_disk_is_kept_apart_and_the_rest_go(tmp_path: Path) -> None:
    sent: list[str] = []
    reporter = VisitReporter(tmp_path, lambda report: sent.append(report.visit_id))
    reporter.handle(_event(V2))
    (tmp_path / "pending" / f"{V1}.json").write_text('{"visit_id": "' + V1 + '", "first_at": "soon"}')
    assert reporter.send_due() is None
    assert sent == [V2] and reporter.pending() == []
    rejected = json.loads((tmp_path / "rejected" / f"{V1}.json").read_text())
    assert "first_at" in rejected["rejected"] and rejected["report"]["visit_id"] == V1


def test_a_report_arriving_during_a_round_is_sent_without_another_wake_up(tmp_path: Path) -> None:
    sent: list[str] = []
    reporter: VisitReporter

    def send(report: VisitReport) -> None:
        if report.visit_id == V1:  # a new report lands while the sender is busy with this one
            reporter.handle(_event(V2))
        sent.append(report.visit_id)

    reporter = VisitReporter(tmp_path, send)
    reporter.handle(_event(V1))
    reporter.start()
    assert _wait(lambda: reporter.sent == 2), sent
    reporter.close(1.0)
    assert sent == [V1, V2]


def test_a_newer_report_replaces_the_pending_one(tmp_path: Path) -> None:
    reporter = VisitReporter(tmp_path, lambda report: None)
    reporter.handle(_event(V1, "undecided", VisitDecided))
    reporter.handle(_event(V1, "Laura_Bush"))
    [path] = reporter.pending()
    assert json.loads(path.read_text())["decision"] == "Laura_Bush"


def test_a_report_changed_while_being_sent_is_sent_again(tmp_path: Path) -> None:
    sent: list[str] = []
    reporter: VisitReporter

    def send(report: VisitReport) -> None:
        sent.append(report.decision)
        if len(sent) == 1:
            reporter.handle(_event(V1, "Laura_Bush"))

    reporter = VisitReporter(tmp_path, send, hold_s=0)  # the decided report goes at once
    reporter.handle(_event(V1, "undecided", VisitDecided))
    reporter.start()
    assert _wait(lambda: sent == ["undecided", "Laura_Bush"] and not reporter.pending()), sent
    reporter.close(1.0)


def test_a_refused_report_is_kept_apart_with_the_reason_and_the_rest_go(tmp_path: Path) -> None:
    sent: list[str] = []

    def send(report: VisitReport) -> None:
        if report.visit_id == V1:
            raise ServiceRefused("visits answered 400 bad_visit: no decision", status=400)
        sent.append(report.visit_id)

    reporter = VisitReporter(tmp_path, send)
    reporter.handle(_event(V1))
    reporter.handle(_event(V2))
    assert reporter.send_due() is None
    assert sent == [V2] and reporter.pending() == []
    rejected = json.loads((tmp_path / "rejected" / f"{V1}.json").read_text())
    assert "bad_visit" in rejected["rejected"] and rejected["report"]["visit_id"] == V1


def test_an_unavailable_api_keeps_reports_for_the_next_run(tmp_path: Path) -> None:
    now = [1000.0]

    def down(report: VisitReport) -> None:
        raise ServiceUnavailable("unreachable")

    reporter = VisitReporter(tmp_path, down, backoff=Backoff(base_s=10, max_s=10, jitter=0), clock=lambda: now[0])
    reporter.handle(_event(V1))
    assert reporter.send_due() == 1010.0  # retried after the backoff, not dropped
    assert len(reporter.pending()) == 1

    sent: list[str] = []
    restarted = VisitReporter(tmp_path, lambda report: sent.append(report.visit_id)).start()
    assert _wait(lambda: sent == [V1] and not restarted.pending())
    restarted.close(1.0)


def test_close_gives_pending_reports_time_to_go(tmp_path: Path) -> None:
    release = threading.Event()
    sent: list[str] = []

    def slow(report: VisitReport) -> None:
        release.wait(2.0)
        sent.append(report.visit_id)

    reporter = VisitReporter(tmp_path, slow).start()
    reporter.handle(_event(V1))
    threading.Timer(0.2, release.set).start()
    reporter.close(flush_timeout_s=3.0)
    assert sent == [V1] and reporter.pending() == []


def test_close_waits_out_a_failed_send_instead_of_leaving_the_rest_for_the_next_start(tmp_path: Path) -> None:
    sent: list[str] = []
    failures = [ServiceUnavailable("throttled")]

    def flaky(report: VisitReport) -> None:
        if failures:
            raise failures.pop()
        sent.append(report.visit_id)

    reporter = VisitReporter(tmp_path, flaky, backoff=Backoff(base_s=0.3, max_s=0.3, jitter=0))
    reporter.handle(_event(V1))
    reporter.handle(_event(V2))
    reporter.start()
    reporter.close(flush_timeout_s=5.0)
    assert sent == [V1, V2] and reporter.pending() == []


def test_a_report_names_the_visits_bundle_when_its_clips_go_in_one(tmp_path: Path) -> None:
    from facegate_contract import bundle_key

    sent: list[VisitReport] = []
    reporter = VisitReporter(tmp_path, sent.append, bundle_of=lambda visit: bundle_key("door-1", visit))
    reporter.handle(_event(V1))  # before the bundle is made: its key is known already
    reporter.send_due()
    assert [report.bundle for report in sent] == [bundle_key("door-1", V1)]
    plain = VisitReporter(tmp_path / "all", sent.append)  # --upload all: every clip alone, no bundle
    plain.handle(_event(V2))
    plain.send_due()
    assert sent[-1].bundle is None


def _decided(visit: str, decision: str = "Laura_Bush") -> VisitEvent:
    return _event(visit, decision, VisitDecided)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_short_visit_sends_only_its_final_report(tmp_path: Path) -> None:
    clock, sent, published = _Clock(), [], []  # type: ignore[var-annotated]
    reporter = VisitReporter(tmp_path, sent.append, clock=clock, hold_s=10.0, publish=published.append)
    reporter.handle(_decided(V1))
    [path] = reporter.pending()  # on disk at once: a crash loses nothing
    assert json.loads(path.read_text())["decision"] == "Laura_Bush"
    assert reporter.send_due() == 1010.0 and sent == []  # held: try again when the hold is over
    clock.now += 4.0
    reporter.handle(_event(V1))  # the visit ended within the hold: its final report replaces the decided one
    assert reporter.send_due() is None
    assert [(r.visit_id, r.ended) for r in sent] == [(V1, True)] and reporter.pending() == []
    assert published == [VisitReported(visit_id=V1, decision="Laura_Bush", ended=True)]


def test_a_held_report_goes_once_the_hold_is_over_and_a_re_decision_does_not_push_it_back(tmp_path: Path) -> None:
    clock, sent = _Clock(), []  # type: ignore[var-annotated]
    reporter = VisitReporter(tmp_path, sent.append, clock=clock, hold_s=10.0)
    reporter.handle(_decided(V1, "unknown"))
    clock.now += 6.0
    reporter.handle(_decided(V1, "Laura_Bush"))  # re-decided: replaces the pending report, same hold
    reporter.handle(_event(V2))  # another visit's final report is not held
    assert reporter.send_due() == 1010.0
    assert [r.visit_id for r in sent] == [V2]
    clock.now = 1010.0
    assert reporter.send_due() is None
    assert [(r.visit_id, r.decision, r.ended) for r in sent[1:]] == [(V1, "Laura_Bush", False)]
    reporter.handle(_decided(V1, "Vladimir_Putin"))  # re-decided after its report went: a new hold
    assert reporter.send_due() == 1020.0 and len(sent) == 2


def test_a_held_report_left_by_a_crash_goes_at_once_on_the_next_start(tmp_path: Path) -> None:
    crashed = VisitReporter(tmp_path, lambda report: None, hold_s=60.0)
    crashed.handle(_decided(V1))
    sent: list[str] = []
    restarted = VisitReporter(tmp_path, lambda report: sent.append(report.visit_id), hold_s=60.0)
    assert restarted.send_due() is None and sent == [V1]


def test_a_door_request_or_close_sends_the_held_report_at_once(tmp_path: Path) -> None:
    clock, sent = _Clock(), []  # type: ignore[var-annotated]
    reporter = VisitReporter(tmp_path, lambda report: sent.append(report.visit_id), clock=clock, hold_s=10.0)
    reporter.handle(_decided(V1))
    reporter.handle(_decided(V2))
    reporter.handle(VisitAction(visit_id=V1, rule="known", decision="Laura_Bush"))  # no request: still held
    assert reporter.send_due() == 1010.0 and sent == []
    # Confirm mode: the console's door request links to the visit, so the visit must be listed now.
    reporter.handle(VisitAction(visit_id=V1, rule="door_request", decision="Laura_Bush", door_reason="asked",
                                door_request="req-1"))
    assert reporter.send_due() == 1010.0 and sent == [V1]
    reporter.start().close(flush_timeout_s=2.0)  # shutdown: nothing will replace V2's report in this run
    assert sent == [V1, V2] and reporter.pending() == []


def test_an_ended_report_is_sent_at_once_while_another_is_held(tmp_path: Path) -> None:
    v3 = "20261129T100002.000Z-00000003"
    sent: list[str] = []
    reporter: VisitReporter

    def send(report: VisitReport) -> None:
        if report.visit_id == V2:  # another visit ends while the sender is busy: its wake-up comes mid-round
            reporter.handle(_event(v3))
        sent.append(report.visit_id)

    reporter = VisitReporter(tmp_path, send, hold_s=30.0)
    reporter.handle(_decided(V1))
    reporter.handle(_event(V2))
    reporter.start()
    # The round ends with V1 still held for 30 s: the sender must not wait that out before sending v3.
    assert _wait(lambda: sent == [V2, v3], timeout_s=2.0), sent
    assert [p.stem for p in reporter.pending()] == [V1]
    reporter.close(flush_timeout_s=2.0)
    assert sent == [V2, v3, V1]


def test_a_negative_hold_is_refused(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(ValueError):
        VisitReporter(tmp_path, lambda report: None, hold_s=-1.0)


def test_every_report_the_api_took_is_published_even_one_replaced_while_it_was_sent(tmp_path: Path) -> None:
    published: list[DeviceEvent] = []
    reporter: VisitReporter

    def send(report: VisitReport) -> None:
        if not report.ended:
            reporter.handle(_event(V1))  # the visit ends while its decided report is on the way

    reporter = VisitReporter(tmp_path, send, hold_s=0, publish=published.append)
    reporter.handle(_decided(V1))
    reporter.send_due()
    reporter.send_due()
    assert [(e.visit_id, e.ended) for e in published if isinstance(e, VisitReported)] == [(V1, False), (V1, True)]
