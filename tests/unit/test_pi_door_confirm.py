"""Confirm mode on the device: the door rule's `door_mode`, and the door opening only on an operator's approval read
through the real API client from a scripted API (approved: once; denied, expired, timed out, API errors: never)."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from facegate_contract import clip_key
from facegate_contract.device_events import VisitAction
from pi_app.actions import parse_actions_config
from pi_app.actions.config import AUTO, CONFIRM, KNOWN, Pulse
from pi_app.actions.config_summary import describe_config
from pi_app.actions.door_confirm import DoorConfirmer
from pi_app.transport.api_session import ApiSession, AttemptTimeout
from pi_app.transport.door_request_client import ApiDoorRequests
from tests.unit.pi_actions_support import RULES, ActionsRig, eileen
from tests.unit.pi_support import scripted_server
from tests.unit.test_pi_actions_config import OUTPUTS, _problems

CONFIRM_RULES = RULES.replace('door = { output = "door_relay", seconds = 0.5 }',
                              'door = { output = "door_relay", seconds = 0.5 }\ndoor_mode = "confirm"\n'
                              'confirm_timeout_s = 5').replace(
    "allow_http = true", 'allow_http = true\nconsole_url = "https://console.example.org/"')
VISIT = "20261204T180000.000Z-01020304"
KEY = clip_key("door-1", "20261204T180000.000Z-000001")


REQUEST = "20261204T180001.000Z-0a0b0c0d"


def state(status: str, request_id: str = REQUEST) -> tuple[int, dict[str, Any]]:
    return 200, {"request_id": request_id, "status": status, "expires_at": 4_000_000_000.0}


@pytest.fixture(autouse=True)
def fixed_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripted API answers about REQUEST: the device makes that id (a real one is random)."""
    monkeypatch.setattr("pi_app.actions.door_confirm.stamped_id", lambda _: REQUEST)


# ---- the rule ---------------------------------------------------------------------------------------------------------
def test_the_door_mode_is_auto_unless_the_rule_says_confirm() -> None:
    assert parse_actions_config(RULES).rules[KNOWN].door_mode == AUTO
    rule = parse_actions_config(CONFIRM_RULES).rules[KNOWN]
    assert (rule.door_mode, rule.confirm_timeout_s) == (CONFIRM, 5.0)
    assert parse_actions_config(CONFIRM_RULES).webhook.console_url == "https://console.example.org"  # type: ignore[union-attr]
    summary = "\n".join(describe_config(parse_actions_config(RULES)))
    assert "door mode: auto: opens on the face alone (no liveness check" in summary


@pytest.mark.parametrize(("rule", "problem"), [
    ('[on.known]\ndoor_mode = "ask"\n', "on.known.door_mode: 'ask' is not one of auto, confirm"),
    ('[on.known]\nconfirm_timeout_s = 4\n', "on.known.confirm_timeout_s: must be 5 or more, got 4"),
    ('[on.known]\nconfirm_timeout_s = 601\n', "on.known.confirm_timeout_s: must be 600 or less, got 601"),
    ('[on.unknown]\ndoor_mode = "confirm"\n', "on.unknown.door_mode: only [on.known] has a door_mode"),
    ('[webhook]\nurl = "https://h.example/x"\nconsole_url = "ftp://x"\n',
     "webhook.console_url: must be an http:// or https:// URL with a host"),
])
def test_a_wrong_door_mode_stops_start_up(rule: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in _problems(OUTPUTS + rule)), _problems(OUTPUTS + rule)


# ---- the confirm flow, through the sink ------------------------------------------------------------------------------
@pytest.fixture
def api_session() -> Iterator[ApiSession]:
    session = ApiSession("device-key", AttemptTimeout(connect_s=1.0, read_s=2.0))
    yield session
    session.close()


def _outcome(rig: ActionsRig, timeout_s: float = 10.0) -> VisitAction:
    """The confirmer's last word on the visit's door request."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = [e for e in rig.published("visit_action") if e.rule == "door_request" and e.door_reason != "asked"]
        if done:
            return done[0]
        time.sleep(0.02)
    raise AssertionError("the door request never ended")


def _confirm_rig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, server: Any, session: ApiSession) -> ActionsRig:
    api = ApiDoorRequests(session, f"http://127.0.0.1:{server.server_address[1]}/live")
    return ActionsRig(monkeypatch, tmp_path, CONFIRM_RULES, door_requests=api)


def test_an_approval_opens_the_door_once_and_the_alert_links_to_the_request(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, api_session: ApiSession) -> None:
    with scripted_server([state("pending"), state("pending"), state("approved")]) as server:
        rig = _confirm_rig(monkeypatch, tmp_path, server, api_session)
        rig.clips(eileen(), eileen())
        outcome = _outcome(rig)
        rig.actions.close()

    assert (outcome.door, outcome.door_reason, outcome.decision) == (True, "approved", "Eileen_Collins")
    assert len(rig.door_openings) == 1
    filed = json.loads(server.requests[0]["body"])
    assert filed["name"] == "Eileen_Collins" and filed["expires_in"] == 5 and filed["request_id"] == outcome.door_request
    assert filed["clip_key"].startswith("clips/door-1/") and filed["visit_id"] == outcome.visit_id
    assert json.loads(server.requests[1]["body"]) == {"request_id": outcome.door_request}
    assert server.requests[0]["headers"]["x-api-key"] == "device-key"
    known = next(e for e in rig.published("visit_action") if e.rule == "known")
    assert known.door is False  # the rule itself never pulsed the relay
    (alert,) = rig.deliver()
    assert alert["rule"] == "door_request" and alert["door_request_id"] == outcome.door_request
    assert alert["door_request_url"] == f"https://console.example.org/door-requests/{outcome.door_request}"


@pytest.mark.parametrize(("script", "reason"), [
    ([state("pending"), state("denied")], "denied"),
    ([state("pending"), state("expired")], "expired"),
    ([(500, {"error": "internal_error", "message": "x"})], "api_error"),
    ([(403, {"error": "not_your_request", "message": "x"})], "api_error"),
    ([(200, {"status": "approved"})], "api_error"),  # an answer that is not a state is doubt
    ([state("approved", request_id="20261204T180001.000Z-ffffffff")], "api_error"),  # ...or about another request
])
def test_a_denial_an_expiry_or_an_api_error_never_opens_the_door(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, api_session: ApiSession, script: list, reason: str) -> None:
    with scripted_server(script) as server:
        rig = _confirm_rig(monkeypatch, tmp_path, server, api_session)
        rig.clips(eileen(), eileen(), eileen())
        outcome = _outcome(rig)
        rig.actions.close()

    assert (outcome.door, outcome.door_reason) == (False, reason)
    assert rig.door_openings == []


def test_confirm_mode_without_the_api_never_opens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rig = ActionsRig(monkeypatch, tmp_path, CONFIRM_RULES)
    rig.clips(eileen(), eileen(), eileen())
    rig.advance(5)

    assert rig.door_openings == []
    assert any(e.rule == "door_request" and e.door_reason == "no door-request API"
               for e in rig.published("visit_action"))


# ---- the confirmer's deadline -------------------------------------------------------------------------------------------
def _ask(session: ApiSession, script: list, timeout_s: float, wait_s: float,
         clock: Callable[[], float] = time.monotonic) -> tuple[list[Pulse], list[str], Any, float]:
    """One door request through the real client against `script`: waits up to `wait_s` for its outcome, then
    closes the confirmer; returns the door pulses, the outcomes, the server and how long closing took."""
    opened: list[Pulse] = []
    events: list[Any] = []
    with scripted_server(script) as server:
        api = ApiDoorRequests(session, f"http://127.0.0.1:{server.server_address[1]}")
        confirmer = DoorConfirmer(api, opened.append, publish=events.append, poll_s=0.02, clock=clock)
        confirmer.ask(VISIT, "Eileen_Collins", KEY, Pulse("door_relay", 0.5), timeout_s=timeout_s)
        deadline = time.monotonic() + wait_s
        while not events and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        confirmer.close()
    return opened, [e.door_reason for e in events], server, time.monotonic() - started


def test_no_answer_before_the_deadline_never_opens(api_session: ApiSession) -> None:
    opened, outcomes, server, _ = _ask(api_session, [state("pending")], timeout_s=0.3, wait_s=2)

    assert opened == [] and outcomes == ["timeout"]
    assert len(server.requests) > 3  # it kept asking until the deadline


def test_failed_polls_are_no_answer_and_a_later_approval_still_opens(api_session: ApiSession) -> None:
    script = [state("pending"), (503, {"error": "unavailable", "message": "x"}), state("approved")]
    opened, outcomes, _, _ = _ask(api_session, script, timeout_s=5, wait_s=5)

    assert opened == [Pulse("door_relay", 0.5)] and outcomes == ["approved"]


def test_an_approval_read_after_the_deadline_never_opens(api_session: ApiSession) -> None:
    now = [0.0]

    def slow_clock() -> float:  # each reading is a second later: the deadline passes while the answer travels
        now[0] += 1.0
        return now[0]

    opened, outcomes, _, _ = _ask(api_session, [state("approved")], timeout_s=0.5, wait_s=2, clock=slow_clock)

    assert opened == [] and outcomes == ["timeout"]


def test_closing_stops_waiting_and_nothing_opens_after(api_session: ApiSession) -> None:
    opened, outcomes, _, closing_s = _ask(api_session, [state("pending")], timeout_s=30, wait_s=0.1)

    assert closing_s < 1.0
    assert opened == [] and outcomes == ["stopped"]


def test_a_door_requests_clip_is_wanted_alone_even_without_an_alert(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                    api_session: ApiSession) -> None:
    no_webhook = CONFIRM_RULES.split("[webhook]")[0].replace("alert = true\n", "")
    with scripted_server([state("pending"), state("denied")]) as server:
        api = ApiDoorRequests(api_session, f"http://127.0.0.1:{server.server_address[1]}/live")
        rig = ActionsRig(monkeypatch, tmp_path, no_webhook, door_requests=api)
        assert rig.actions.dispatcher is None  # no alert is ever sent
        wanted: list[str] = []
        rig.actions.sink.alerted.listen(wanted.append)
        rig.clips(eileen(), eileen())
        outcome = _outcome(rig)
        rig.actions.close()

    filed = json.loads(server.requests[0]["body"])
    assert outcome.door_request and wanted == [filed["clip_key"]]  # the Door page shows it: never in a bundle


def test_a_slow_filing_does_not_end_the_wait_before_the_api_expires_the_request(api_session: ApiSession) -> None:
    """The API's expiry runs from when the request reached it: the device waits that long from the answer, so an
    approval the API accepted in time is one the device acts on (and one it times out on reads `expired`)."""
    now = [0.0]

    class SlowFiling(ApiDoorRequests):
        def file(self, request: Any) -> Any:
            now[0] += 3.0  # three of the request's five seconds pass before the API's answer is back
            return super().file(request)

        def state(self, request_id: str) -> Any:
            now[0] += 0.5
            return super().state(request_id)

    opened: list[Pulse] = []
    events: list[Any] = []
    with scripted_server([state("pending")] * 6 + [state("approved")]) as server:
        api = SlowFiling(api_session, f"http://127.0.0.1:{server.server_address[1]}")
        confirmer = DoorConfirmer(api, opened.append, publish=events.append, poll_s=0.01, clock=lambda: now[0])
        confirmer.ask(VISIT, "Eileen_Collins", KEY, Pulse("door_relay", 0.5), timeout_s=5)
        deadline = time.monotonic() + 5
        while not events and time.monotonic() < deadline:
            time.sleep(0.02)
        confirmer.close()

    assert [e.door_reason for e in events] == ["approved"] and opened == [Pulse("door_relay", 0.5)]
    assert 6.0 <= now[0] < 8.0  # read 3 s after the device's own 5 s began: within the API's 5 s from its answer
