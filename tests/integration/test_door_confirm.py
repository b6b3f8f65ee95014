"""Confirm mode against the emulator stack: a provisioned device's actions (fake-rpi pins) in `door_mode = "confirm"`
file a door request through the deployed API with only the device's key; the console's backend approves or denies
it. An approval opens the door exactly once and is recorded on the visit; a denial and a timeout never open it; the
request is the device's alone."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from facegate_cli.console.backend import ConsoleBackend
from facegate_contract import DOOR_REQUEST_STATUS_PATH, DeviceFile, StackOutputs
from facegate_contract.device_events import VisitAction, VisitDecided
from pi_app.transport.stack_connection import StackConnection, connect
from services.visit_log import get_visit
from tests.integration.conftest import ENDPOINT
from tests.unit.pi_actions_support import RULES, ActionsRig, eileen

DEVICE = "door-confirm"


def rules(timeout_s: int) -> str:
    return RULES.replace('door = { output = "door_relay", seconds = 0.5 }',
                         f'door = {{ output = "door_relay", seconds = 0.5 }}\ndoor_mode = "confirm"\n'
                         f'confirm_timeout_s = {timeout_s}')


@pytest.fixture(scope="module")
def device_file(add_device) -> Path:
    return add_device(DEVICE)


@pytest.fixture
def connection(device_file: Path) -> Iterator[StackConnection]:
    made = connect(device_file=device_file)
    yield made
    made.close()


@pytest.fixture(scope="module")
def console(deployed: tuple[StackOutputs, Path]) -> ConsoleBackend:
    return ConsoleBackend.open(deployed[1], ENDPOINT, None)


def _visit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, connection: StackConnection, timeout_s: int) -> ActionsRig:
    """The device sees Eileen_Collins (allowed in) in two agreeing clips; its visit is reported as the reporter would."""
    rig = ActionsRig(monkeypatch, tmp_path, rules(timeout_s), door_requests=connection.door_requests, device=DEVICE)
    rig.clips(eileen(), eileen())
    decided = next(e for e in rig.events if isinstance(e, VisitDecided))
    connection.report_visit(decided.report())
    return rig


def _operator(console: ConsoleBackend, visit_id: str, approve: bool) -> threading.Thread:
    """An operator who decides the visit's request as soon as it shows in the console."""
    def decide() -> None:
        for _ in range(200):
            pending = [r for r in console.door_requests() if r.visit_id == visit_id and r.pending]
            if pending:
                console.decide_door(pending[0].request_id, approve)
                return
            time.sleep(0.1)
    thread = threading.Thread(target=decide, daemon=True)
    thread.start()
    return thread


def _outcome(rig: ActionsRig, within_s: float) -> VisitAction:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        done = [e for e in rig.events if isinstance(e, VisitAction) and e.rule == "door_request"
                and e.door_reason != "asked"]
        if done:
            return done[0]
        time.sleep(0.05)
    raise AssertionError("the door request never ended")


def test_an_approval_opens_the_door_once_and_is_recorded_on_the_visit(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, connection: StackConnection, console: ConsoleBackend,
        deployed: tuple[StackOutputs, Path]) -> None:
    rig = _visit(monkeypatch, tmp_path, connection, timeout_s=30)
    visit_id = rig.events[0].visit_id  # type: ignore[attr-defined]
    _operator(console, visit_id, approve=True).join(25)
    outcome = _outcome(rig, 10)
    time.sleep(0.5)  # anything more would show now
    rig.actions.close()

    assert (outcome.door, outcome.door_reason) == (True, "approved")
    assert len(rig.door_openings) == 1
    record = console.door_request(outcome.door_request)
    assert record is not None and record.state.status == "approved" and record.device == DEVICE
    assert record.clip_key.startswith(f"clips/{DEVICE}/")
    visit = get_visit(console.visits_table, visit_id)
    assert visit is not None and visit.door_request["status"] == "approved"


def test_a_denial_never_opens_and_the_request_is_the_devices_alone(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, connection: StackConnection, console: ConsoleBackend,
        deployed: tuple[StackOutputs, Path], add_device) -> None:
    rig = _visit(monkeypatch, tmp_path, connection, timeout_s=30)
    _operator(console, rig.events[0].visit_id, approve=False).join(25)  # type: ignore[attr-defined]
    outcome = _outcome(rig, 10)
    rig.actions.close()

    assert (outcome.door, outcome.door_reason) == (False, "denied")
    assert rig.door_openings == []
    other = DeviceFile.read(add_device("door-confirm-other"))
    answer = requests.post(other.api_url.rstrip("/") + DOOR_REQUEST_STATUS_PATH,
                           json={"request_id": outcome.door_request}, headers={"x-api-key": other.api_key}, timeout=30)
    assert (answer.status_code, answer.json()["error"]) == (403, "not_your_request")


def test_no_decision_in_time_never_opens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                         connection: StackConnection, console: ConsoleBackend) -> None:
    rig = _visit(monkeypatch, tmp_path, connection, timeout_s=5)
    outcome = _outcome(rig, 15)
    rig.actions.close()

    assert (outcome.door, outcome.door_reason) in ((False, "timeout"), (False, "expired"))
    assert rig.door_openings == []
    record = console.door_request(outcome.door_request)
    assert record is not None and record.state.status == "expired"
    with pytest.raises(ValueError, match="expired"):
        console.decide_door(outcome.door_request, approve=True)  # too late for the operator too
