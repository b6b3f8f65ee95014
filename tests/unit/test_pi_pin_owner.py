"""The door fails shut: the real pin owner process ends every pulse on its own clock, and drives the relay off and
releases it within a second of the app dying in any way (SIGKILL here); the app does the same when the owner dies.

The app side runs alone in a child process (tests/unit/pin_app_side.py) so it can be SIGKILLed; the owner
records every pin call in a journal (PinJournal: fake-rpi keeps no levels), read here with its timestamps.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pi_app.actions import DeviceActions, parse_actions_config
from pi_app.actions.config import Output
from pi_app.actions.gpio_backend import GpioUnavailable, PinJournal, fake_gpio
from pi_app.actions.gpio_outputs import GpioOutputs, release_pins
from pi_app.actions.pin_owner import APP_GONE, PARENT_GONE, POLL_S, STOP_COMMAND, STOPPED, serve
from pi_app.actions.scheduler import ThreadScheduler
from pi_app.actions.supervised_outputs import SupervisedOutputs
from tests.unit.pi_actions_support import RULES
from tests.unit.pin_app_side import LED_PIN, OUTPUTS, RELAY_PIN

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see processes end")

HIGH, LOW = 1, 0  # the relay is active low: on at LOW
RELEASE_BOUND_S = 1.0
REPO = Path(__file__).resolve().parents[2]
AppSide = Callable[..., tuple[subprocess.Popen[str], int]]  # pulses -> the app side and its pin owner's PID


@dataclass(frozen=True)
class PinState:
    """A pin as the journal leaves it: the last level driven, whether it was released since, and when."""

    level: int | None
    released: bool
    t: float
    pid: int


def pin_state(journal: Path, pin: int) -> PinState | None:
    """What the journal says about `pin` so far (None before any call on it)."""
    state = None
    lines = journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []
    for entry in (json.loads(line) for line in lines if line.endswith("}")):
        if entry["pin"] != pin:
            continue
        if entry["op"] == "cleanup":
            state = PinState(state.level if state else None, True, entry["t"], entry["pid"])
        else:
            state = PinState(entry["level"], False, entry["t"], entry["pid"])
    return state


def wait_for(condition: Callable[[], bool], timeout_s: float) -> float | None:
    """Poll `condition` every 2 ms; the monotonic time it first held, or None after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.002)
    return None


def gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie counts: nothing runs any more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def relay_is(journal: Path, level: int) -> Callable[[], bool]:
    return lambda: (s := pin_state(journal, RELAY_PIN)) is not None and not s.released and s.level == level


def relay_released(journal: Path) -> bool:
    state = pin_state(journal, RELAY_PIN)
    return state is not None and state.released


@pytest.fixture
def app_side(tmp_path: Path) -> Iterator[AppSide]:
    """Starts the app side with the given pulses; returns it and its pin owner's PID. Both are killed at the end."""
    started: list[tuple[subprocess.Popen[str], int]] = []

    def start(*pulses: tuple[str, float]) -> tuple[subprocess.Popen[str], int]:
        app = subprocess.Popen([sys.executable, "-m", "tests.unit.pin_app_side", str(tmp_path / "pins.jsonl"),
                                json.dumps(pulses)], stdout=subprocess.PIPE, text=True, cwd=REPO,
                               env=dict(os.environ, PYTHONPATH=str(REPO)))
        assert app.stdout is not None
        owner = int(app.stdout.readline())
        started.append((app, owner))
        return app, owner

    yield start
    for app, owner in started:
        for pid in (app.pid, owner):
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        app.wait()
        app.stdout.close()


def test_the_relay_is_released_within_a_second_of_the_app_being_sigkilled_mid_pulse(app_side: AppSide,
                                                                                    tmp_path: Path) -> None:
    journal = tmp_path / "pins.jsonl"
    app, owner = app_side(("door_relay", 30.0))
    assert wait_for(relay_is(journal, LOW), 10) is not None  # the door is open, for 30 s

    killed = time.monotonic()
    os.kill(app.pid, signal.SIGKILL)
    seen = wait_for(lambda: relay_released(journal), 5)

    state = pin_state(journal, RELAY_PIN)
    assert seen is not None and state is not None, "the relay was never released"
    print(f"\nrelay off and released {(state.t - killed) * 1000:.1f} ms after SIGKILL of the app "
          f"(seen by the test after {(seen - killed) * 1000:.1f} ms)")
    assert state.level == HIGH and state.pid == owner  # driven off (active low) by the owner, then released
    assert state.t - killed <= RELEASE_BOUND_S and seen - killed <= RELEASE_BOUND_S
    assert wait_for(lambda: gone(owner), 2) is not None  # and the owner exits


def test_a_door_pulse_ends_on_the_owners_clock_while_the_app_is_frozen(app_side: AppSide, tmp_path: Path) -> None:
    journal = tmp_path / "pins.jsonl"
    app, owner = app_side(("door_relay", 0.4))
    assert wait_for(relay_is(journal, LOW), 10) is not None
    opened = pin_state(journal, RELAY_PIN)
    os.kill(app.pid, signal.SIGSTOP)  # a hung app: it will never say anything again

    closed_at = wait_for(relay_is(journal, HIGH), 5)

    closed = pin_state(journal, RELAY_PIN)
    assert closed_at is not None and opened is not None and closed is not None, "the pulse never ended"
    print(f"\n0.4 s door pulse ended after {closed.t - opened.t:.3f} s, the app frozen")
    assert 0.39 <= closed.t - opened.t <= 0.4 + RELEASE_BOUND_S
    assert not gone(owner) and not gone(app.pid)  # nothing died: the pulse ended on its own deadline


def test_the_app_drives_the_pins_off_when_the_pin_owner_is_killed_mid_pulse(app_side: AppSide, tmp_path: Path) -> None:
    journal = tmp_path / "pins.jsonl"
    app, owner = app_side(("door_relay", 30.0))
    assert wait_for(relay_is(journal, LOW), 10) is not None

    killed = time.monotonic()
    os.kill(owner, signal.SIGKILL)
    seen = wait_for(lambda: relay_released(journal), 5)

    state = pin_state(journal, RELAY_PIN)
    assert seen is not None and state is not None, "the relay was never released"
    print(f"\nrelay off and released by the app {(state.t - killed) * 1000:.1f} ms after SIGKILL of the owner")
    assert state.level == HIGH and state.pid == app.pid
    assert state.t - killed <= RELEASE_BOUND_S


def test_the_owner_refuses_pulses_the_rules_could_never_ask_for(app_side: AppSide, tmp_path: Path) -> None:
    journal = tmp_path / "pins.jsonl"
    app_side(("door_relay", 61.0), ("door_relay", float("nan")), ("door_relay", -1), ("front_door", 1.0),
             ("green_led", 0.1))

    assert wait_for(lambda: (s := pin_state(journal, LED_PIN)) is not None and s.level == LOW, 10) is not None
    relay = pin_state(journal, RELAY_PIN)
    assert relay is not None and relay.level == HIGH  # set up off, never driven on


def test_device_actions_drive_the_pins_through_a_pin_owner_that_close_stops(tmp_path: Path) -> None:
    config = parse_actions_config(RULES.replace('backend = "rpi"', 'backend = "fake"'))
    actions = DeviceActions(config, device_id="door-1", outbox_dir=tmp_path / "alerts").start()
    try:
        assert isinstance(actions.outputs, SupervisedOutputs)
        owner = actions.outputs.pid
        assert owner is not None and not gone(owner)
        actions.outputs.pulse("door_relay", 0.5)
    finally:
        actions.close(flush_timeout_s=0)
    assert gone(owner) and actions.outputs.pid is None


def test_a_pin_owner_that_cannot_claim_the_pins_stops_the_start() -> None:
    outputs = SupervisedOutputs({"door_relay": Output("door_relay", RELAY_PIN, "door")}, "rpi")

    with pytest.raises(GpioUnavailable, match="RPi.GPIO is not usable here"):
        outputs.open()
    assert outputs.pid is None


def test_release_pins_drives_every_output_off_then_releases_it(tmp_path: Path) -> None:
    journal = tmp_path / "pins.jsonl"
    outputs = {"door_relay": Output("door_relay", RELAY_PIN, "door", active_low=True), "led": Output("led", LED_PIN)}

    release_pins(PinJournal(fake_gpio(), journal), outputs)

    assert pin_state(journal, RELAY_PIN) == PinState(HIGH, True, pin_state(journal, RELAY_PIN).t, os.getpid())
    assert pin_state(journal, LED_PIN) == PinState(LOW, True, pin_state(journal, LED_PIN).t, os.getpid())


def test_facegate_release_pins_reads_the_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.replace('backend = "rpi"', 'backend = "fake"'), encoding="utf-8")

    result = subprocess.run([sys.executable, "-m", "facegate_cli", "release-pins", "--actions", str(rules)],
                            check=False, capture_output=True, text=True, timeout=120, cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))

    assert result.returncode == 0, result.stderr
    assert "door_relay (GPIO23)" in result.stdout


def _owner_pins(journal: Path) -> GpioOutputs:
    pins = GpioOutputs(PinJournal(fake_gpio(), journal), OUTPUTS, ThreadScheduler())
    pins.open()
    return pins


def test_the_owner_lets_go_when_its_parent_changes_though_the_pipe_stays_open(tmp_path: Path) -> None:
    commands, held = os.pipe()  # `held` stays open: as if a child the app forked still had it
    pins = _owner_pins(tmp_path / "pins.jsonl")
    ended: list[tuple[str, float]] = []
    started = time.monotonic()
    owner = threading.Thread(target=lambda: ended.append((serve(pins, commands, parent=os.getppid() + 1),
                                                           time.monotonic())), daemon=True)  # not our parent
    owner.start()
    owner.join(POLL_S + 1)
    os.close(held)  # an owner that ignored its parent would only end now, at EOF
    owner.join(5)
    pins.close()
    os.close(commands)
    assert [reason for reason, _ in ended] == [PARENT_GONE]
    assert ended[0][1] - started <= POLL_S + 0.1


def test_the_owner_serves_pulses_until_stop_or_eof(tmp_path: Path) -> None:
    journal = tmp_path / "pins.jsonl"
    for last, expected in ((json.dumps(STOP_COMMAND).encode() + b"\n", STOPPED), (b"", APP_GONE)):
        commands, app = os.pipe()
        pins = _owner_pins(journal)
        os.write(app, b'{"pulse": "green_led", "seconds": 30}\nnot json\n' + last)
        os.close(app)
        try:
            assert serve(pins, commands, parent=os.getppid()) == expected
            assert pin_state(journal, LED_PIN).level == HIGH  # on: the pulse before was carried out
        finally:
            pins.close()
            os.close(commands)
        assert pin_state(journal, LED_PIN) == PinState(LOW, True, pin_state(journal, LED_PIN).t, os.getpid())


def _unit_commands() -> dict[str, list[str]]:
    """ExecStart= and ExecStopPost= of the shipped unit, as argument lists after the `facegate` executable."""
    text = (REPO / "pi_app/systemd/facegate-device.service").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = dict(line.split("=", 1) for line in text.splitlines() if line.startswith(("ExecStart=", "ExecStopPost=")))
    return {key: shlex.split(value)[1:] for key, value in lines.items()}


def test_the_systemd_unit_runs_the_app_and_releases_the_pins_with_the_same_rules() -> None:
    from facegate_cli.app import load_command

    commands = _unit_commands()
    run, release = commands["ExecStart"], commands["ExecStopPost"]
    assert run[0] == "run" and release[0] == "release-pins"
    for args in (run, release):
        load_command(args[0]).make_context(args[0], args[1:])  # every option exists and parses
    assert release[release.index("--actions") + 1] == run[run.index("--actions") + 1]
    unit = (REPO / "pi_app/systemd/facegate-device.service").read_text(encoding="utf-8")
    for setting in ("Restart=on-failure", "KillMode=mixed", "NoNewPrivileges=yes", "ProtectSystem=strict",
                    "SupplementaryGroups=gpio video"):
        assert f"\n{setting}\n" in unit


def test_a_pin_owner_that_dies_is_replaced_after_the_app_drove_the_pins_off(tmp_path: Path) -> None:
    journal = tmp_path / "pins.jsonl"
    outputs = SupervisedOutputs(OUTPUTS, "fake", journal=journal, restart_after_s=0).open()
    try:
        first = outputs.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: outputs.pid not in (None, first), 30) is not None
        second = outputs.pid
        outputs.pulse("door_relay", 30.0)
        assert wait_for(relay_is(journal, LOW), 10) is not None
    finally:
        outputs.close()
    pids = [json.loads(line)["pid"] for line in journal.read_text(encoding="utf-8").splitlines()]
    assert pids.index(os.getpid()) < pids.index(second)  # the app released the pins before the new owner came
    assert pin_state(journal, RELAY_PIN) == PinState(HIGH, True, pin_state(journal, RELAY_PIN).t, second)
    assert second is not None and gone(second)
