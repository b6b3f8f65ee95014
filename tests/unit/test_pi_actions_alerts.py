"""Webhook alerts (one per stranger visit: three clips) against a real HTTP server on 127.0.0.1: delivered with a
signed clip link, retried on 5xx / 408 / 429 / connection refused (never before a 429 / 503's Retry-After, capped),
given up (and recorded) on 400, expired after `give_up_after_s`, and kept in the outbox across a restart until
they are delivered."""
from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config

from facegate_contract.device_events import ClipUploaded
from pi_app.actions import DeviceActions, parse_actions_config
from pi_app.actions.alert import Alert
from pi_app.actions.alert_outbox import AlertOutbox
from pi_app.actions.clip_links import S3ClipLinks
from pi_app.actions.scheduler import ManualScheduler
from pi_app.actions.webhook import DELIVERED, GIVE_UP, RETRY, WebhookSender, outcome_of, url_origin
from pi_app.runtime.events import utc_iso
from pi_app.runtime.logging_setup import configure_device_logging
from tests.unit.pi_actions_support import RULES, FakeLinks, RecordingSender, recording_gpio, stranger, visit_events
from tests.unit.pi_support import FakeClock, ScriptedServer, scripted_server

TOKEN = "tok-3f9a8e"
QUICK = "backoff = { base_s = 0.01, max_s = 0.02, jitter = 0 }\n"


def hook_url(server: ScriptedServer | None = None, port: int | None = None) -> str:
    return f"http://127.0.0.1:{port or server.server_address[1]}/hooks/{TOKEN}"


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rules_for(url: str, extra: str = QUICK) -> str:
    return RULES.replace("http://127.0.0.1:9/hook", url) + extra


@pytest.fixture
def open_actions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator:
    """Starts DeviceActions (fake-rpi, real webhook sender and dispatcher thread) and closes them after the test."""
    opened: list[DeviceActions] = []

    def start(url: str, extra: str = QUICK, clock=time.time) -> DeviceActions:
        gpio, _ = recording_gpio(monkeypatch, ManualScheduler())
        actions = DeviceActions(parse_actions_config(rules_for(url, extra)), device_id="door-1",
                                outbox_dir=tmp_path / "alerts", clip_links=FakeLinks(), gpio=gpio,
                                scheduler=ManualScheduler(), clock=clock).start()
        opened.append(actions)
        return actions

    yield start
    for actions in opened:
        actions.close(flush_timeout_s=0)


def stranger_visit(actions: DeviceActions, t: float, confidence: float = 0.6, seq: int = 0) -> list[dict]:
    """A stranger at the door for three clips from `t`: one visit, one alert; returns the recognition events."""
    events = visit_events(t, stranger(confidence), seq=seq)
    for event in events:
        actions.sink.handle(event)
    return events


def wait_for(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_an_unknown_visit_is_posted_with_a_signed_clip_link(open_actions) -> None:
    with scripted_server([(200, {"ok": True})]) as server:
        actions = open_actions(hook_url(server))
        sent = time.monotonic()
        event = stranger_visit(actions, time.time() - 1.5, 0.58)[0]  # the best clip: the first of equals
        wait_for(lambda: server.requests)
        latency_ms = (time.monotonic() - sent) * 1e3
        assert actions.dispatcher.wait_idle(5)

    (request,) = server.requests
    alert = json.loads(request["body"])
    assert (alert["rule"], alert["name"], alert["confidence"], alert["device_id"]) == ("unknown", "unknown", 0.58, "door-1")
    assert alert["time"] == utc_iso(event.recorded_at) and alert["time"].endswith("Z")
    assert alert["clip_key"] == event.key and alert["clip"] == event.clip
    assert alert["clip_url"].startswith(f"http://127.0.0.1:4566/clips-bucket/{event.key}?X-Amz-Expires=86400")
    assert alert["clip_pending"] is True and alert["attempt"] == 1
    assert request["headers"]["X-Facegate-Alert-Id"] == alert["alert_id"]
    assert request["headers"]["Content-Type"] == "application/json"
    assert actions.outbox.pending() == [] and actions.outbox.dead() == []
    assert latency_ms < 1000  # measured ~2-5 ms on loopback; generous for a loaded CI machine


def test_clip_pending_is_false_once_the_upload_was_seen(open_actions) -> None:
    with scripted_server([(200, {})]) as server:
        actions = open_actions(hook_url(server))
        event = visit_events(time.time(), stranger())[0]
        actions.sink.handle(ClipUploaded(clip=event.clip, key=event.key))
        stranger_visit(actions, event.recorded_at)
        wait_for(lambda: server.requests)

    assert json.loads(server.requests[0]["body"])["clip_pending"] is False


@pytest.mark.parametrize("failures", [[503, 502], [500], [429, 408]], ids=["5xx", "500", "429-408"])
def test_retryable_answers_are_retried_until_delivered(open_actions, failures: list[int]) -> None:
    script = [(status, {"error": "busy"}) for status in failures] + [(200, {})]
    with scripted_server(script) as server:
        actions = open_actions(hook_url(server))
        stranger_visit(actions, time.time())
        wait_for(lambda: len(server.requests) == len(script))
        assert actions.dispatcher.wait_idle(5)

    bodies = [json.loads(r["body"]) for r in server.requests]
    assert [b["attempt"] for b in bodies] == list(range(1, len(script) + 1))
    assert len({b["alert_id"] for b in bodies}) == 1  # the same alert each time: receivers can dedupe
    assert actions.outbox.pending() == [] and actions.outbox.dead() == []


def test_a_400_is_final_and_recorded(open_actions) -> None:
    with scripted_server([(400, {"error": "bad payload"})]) as server:
        actions = open_actions(hook_url(server))
        stranger_visit(actions, time.time())
        wait_for(lambda: actions.outbox.dead())
        time.sleep(0.1)  # a retry would come after 0.01-0.02 s

    assert len(server.requests) == 1
    (dead,) = actions.outbox.dead()
    assert dead["gave_up"].startswith("HTTP 400") and "bad payload" in dead["gave_up"] and dead["attempts"] == 1
    assert actions.outbox.pending() == []


def test_connection_refused_is_retried_and_the_outbox_survives_a_restart(monkeypatch, tmp_path: Path) -> None:
    clock = FakeClock()
    gpio, _ = recording_gpio(monkeypatch, ManualScheduler())
    down = DeviceActions(parse_actions_config(rules_for(hook_url(port=closed_port()))), device_id="door-1",
                         outbox_dir=tmp_path / "alerts", clip_links=FakeLinks(), gpio=gpio,
                         scheduler=ManualScheduler(), clock=clock)
    down.outputs.open()
    stranger_visit(down, clock.now)
    stranger_visit(down, clock.now + 90, seq=3)  # a second visit: the next clips, recorded 90 s later
    clock.advance(90)

    retry_at = down.dispatcher.deliver_due()
    assert retry_at is not None and retry_at > clock.now  # refused: backing off, not given up
    clock.advance(1)
    assert down.dispatcher.deliver_due() is not None  # still refused; retried after the backoff
    down.close(flush_timeout_s=0)  # the device restarts; nothing was delivered
    stored = AlertOutbox(tmp_path / "alerts").pending()
    assert [a.attempts for a in stored] == [2, 0]  # the first was tried twice, the second waited behind it

    with scripted_server([(200, {})]) as server:
        up = DeviceActions(parse_actions_config(rules_for(hook_url(server))), device_id="door-1",
                           outbox_dir=tmp_path / "alerts", clip_links=FakeLinks(), gpio=gpio,
                           scheduler=ManualScheduler(), clock=clock).start()
        try:
            wait_for(lambda: len(server.requests) == 2)
            assert up.dispatcher.wait_idle(5)
        finally:
            up.close(flush_timeout_s=0)

    bodies = [json.loads(r["body"]) for r in server.requests]
    assert [b["alert_id"] for b in bodies] == [a.id for a in stored]  # oldest first
    assert [b["attempt"] for b in bodies] == [3, 1]
    assert AlertOutbox(tmp_path / "alerts").pending() == []


def test_an_alert_not_delivered_in_time_expires(monkeypatch, tmp_path: Path) -> None:
    clock = FakeClock()
    gpio, _ = recording_gpio(monkeypatch, ManualScheduler())
    actions = DeviceActions(parse_actions_config(rules_for(hook_url(port=closed_port()), QUICK + "give_up_after_s = 60\n")),
                            device_id="door-1", outbox_dir=tmp_path / "alerts", gpio=gpio,
                            scheduler=ManualScheduler(), clock=clock)
    stranger_visit(actions, clock.now)
    actions.dispatcher.deliver_due()
    clock.advance(61)

    assert actions.dispatcher.deliver_due() is None
    (dead,) = actions.outbox.dead()
    assert dead["gave_up"].startswith("expired after 60 s; last error: ConnectionError")


@pytest.mark.parametrize("status, outcome", [(200, DELIVERED), (204, DELIVERED), (301, GIVE_UP), (400, GIVE_UP),
                                             (401, GIVE_UP), (404, GIVE_UP), (408, RETRY), (429, RETRY),
                                             (500, RETRY), (503, RETRY)])
def test_what_each_status_means(status: int, outcome: str) -> None:
    assert outcome_of(status) == outcome


def test_the_webhook_token_never_reaches_the_logs(open_actions, tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_device_logging(tmp_path / "device.log", "DEBUG")  # as `facegate run --log-level DEBUG` does
    try:
        with scripted_server([(503, {}), (400, {})]) as server:
            actions = open_actions(hook_url(server))
            stranger_visit(actions, time.time())
            wait_for(lambda: actions.outbox.dead())
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])

    logged = (tmp_path / "device.log").read_text()
    assert "alert delivery failed" in logged and "alert given up" in logged and "gpio write" in logged
    assert url_origin(hook_url(server)) in logged
    assert TOKEN not in logged and "X-Amz-Signature" not in logged


def _s3(**config: str):
    return boto3.client("s3", endpoint_url="http://127.0.0.1:4566", region_name="eu-west-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(**config))


def test_presigned_clip_links_are_sigv4_signed_locally_for_the_key() -> None:
    key = "clips/door-1/2026/11/23/20261123T231158.500Z-000042.mp4"

    url = S3ClipLinks(_s3(signature_version="s3v4"), "facegate-clips").url(key, 600)

    parts = urlsplit(url)
    assert parts.path == f"/facegate-clips/{key}"
    query = parse_qs(parts.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["600"]
    assert "/eu-west-1/s3/" in query["X-Amz-Credential"][0]


def test_clip_links_refuse_a_client_that_would_presign_with_sigv2() -> None:
    with pytest.raises(ValueError, match="signature_version='s3v4'"):
        S3ClipLinks(_s3(), "facegate-clips").url("clips/x.mp4", 60)


def test_an_alert_whose_link_cannot_be_signed_goes_out_without_it(monkeypatch, tmp_path: Path) -> None:
    gpio, _ = recording_gpio(monkeypatch, ManualScheduler())
    sender = RecordingSender()
    actions = DeviceActions(parse_actions_config(rules_for("http://127.0.0.1:9/x")), device_id="door-1",
                            outbox_dir=tmp_path, clip_links=S3ClipLinks(_s3(), "b"), gpio=gpio,
                            scheduler=ManualScheduler(), sender=sender)
    stranger_visit(actions, time.time())
    actions.dispatcher.deliver_due()

    (payload,) = sender.payloads
    assert payload["clip_url"] is None and payload["clip_key"].startswith("clips/door-1/")


def make_alert(alert_id: str) -> Alert:
    return Alert(id=alert_id, rule="unknown", name="unknown", confidence=0.5, device_id="door-1", seen_at=1.0,
                 created_at=1.0, clip="c", clip_key="clips/c.mp4")


def test_an_unreadable_outbox_file_is_set_aside_and_dead_alerts_are_bounded(tmp_path: Path) -> None:
    outbox = AlertOutbox(tmp_path, keep_dead=2)
    (tmp_path / "pending" / "20260101T000000.000Z-broken.json").write_text("{half")
    outbox.put(make_alert("20260101T000001.000Z-a"))

    assert [a.id for a in outbox.pending()] == ["20260101T000001.000Z-a"]
    for n in range(3):
        outbox.give_up(make_alert(f"20260101T00000{n + 2}.000Z-b"), "HTTP 400")
    assert [d["id"] for d in outbox.dead()] == ["20260101T000003.000Z-b", "20260101T000004.000Z-b"]


def test_closing_does_not_wait_for_a_receiver_that_is_backing_off(open_actions) -> None:
    actions = open_actions(hook_url(port=closed_port()), "backoff = { base_s = 30, max_s = 60, jitter = 0 }\n")
    stranger_visit(actions, time.time())
    wait_for(lambda: actions.dispatcher.gate.failures == 1)

    started = time.monotonic()
    actions.close(flush_timeout_s=5)

    assert time.monotonic() - started < 1.0  # the next try is 30 s away: no point in waiting 5 s for it
    assert len(actions.outbox.pending()) == 1  # kept for the next start


def _manual_actions(monkeypatch, tmp_path: Path, url: str, clock: FakeClock, max_s: float = 60) -> DeviceActions:
    """DeviceActions with the real webhook sender and no dispatcher thread: deliver_due() by hand on `clock`."""
    gpio, _ = recording_gpio(monkeypatch, ManualScheduler())
    backoff = f"backoff = {{ base_s = 0.01, max_s = {max_s}, jitter = 0 }}\n"
    actions = DeviceActions(parse_actions_config(rules_for(url, backoff)), device_id="door-1",
                            outbox_dir=tmp_path / "alerts", clip_links=FakeLinks(), gpio=gpio,
                            scheduler=ManualScheduler(), clock=clock)
    actions.outputs.open()
    return actions


@pytest.mark.parametrize("status, as_date, wait_s", [(429, False, 7.0), (503, True, 30.0)],
                         ids=["429-seconds", "503-http-date"])
def test_the_next_attempt_waits_for_the_retry_after(monkeypatch, tmp_path: Path, status: int, as_date: bool,
                                                    wait_s: float) -> None:
    clock = FakeClock()
    retry_after = formatdate(time.time() + wait_s, usegmt=True) if as_date else f"{wait_s:.0f}"
    with scripted_server([(status, {}, {"Retry-After": retry_after}), (200, {})]) as server:
        actions = _manual_actions(monkeypatch, tmp_path, hook_url(server), clock)
        for event in visit_events(clock.now, stranger()):  # a stranger visit: three clips
            actions.sink.handle(event)

        retry_at = actions.dispatcher.deliver_due()
        assert retry_at is not None and wait_s - 2 <= retry_at - clock.now <= wait_s  # the backoff alone: 0.01 s
        clock.advance(retry_at - clock.now - 0.1)
        assert actions.dispatcher.deliver_due() == retry_at and len(server.requests) == 1  # not before it
        clock.advance(0.1)
        assert actions.dispatcher.deliver_due() is None
        actions.close(flush_timeout_s=0)

    assert len(server.requests) == 2 and actions.outbox.pending() == []


def test_a_retry_after_is_capped_at_the_webhooks_backoff_max(monkeypatch, tmp_path: Path) -> None:
    clock = FakeClock()
    with scripted_server([(429, {}, {"Retry-After": "86400"})]) as server:
        actions = _manual_actions(monkeypatch, tmp_path, hook_url(server), clock, max_s=45)
        for event in visit_events(clock.now, stranger()):  # a stranger visit: three clips
            actions.sink.handle(event)
        retry_at = actions.dispatcher.deliver_due()
        actions.close(flush_timeout_s=0)

    assert retry_at == clock.now + 45  # a receiver cannot park the alerts for a day


def test_the_sender_reads_retry_after_only_where_it_counts() -> None:
    with scripted_server([(429, {}, {"Retry-After": "3"}), (500, {}, {"Retry-After": "3"})]) as server:
        sender = WebhookSender(hook_url(server))
        throttled, failed = sender.send({"alert_id": "a"}), sender.send({"alert_id": "a"})
        sender.close()

    assert (throttled.outcome, throttled.retry_after_s) == (RETRY, 3.0)
    assert (failed.outcome, failed.retry_after_s) == (RETRY, None)
