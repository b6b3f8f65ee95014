"""GPIO actions on fake-rpi: known / unknown / no-face visits write exactly the configured pins at the
configured times, cool-downs hold, the door relay opens only for a known person allowed in, and no
pulse outlives the app."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from pi_app.actions.config import Output
from pi_app.actions.gpio_outputs import GpioOutputs
from pi_app.actions.scheduler import ManualScheduler, ThreadScheduler
from pi_app.events import utc_iso
from tests.unit.pi_actions_support import (BUZZER, GREEN, RED, RELAY, ActionsRig, eileen, recognition, recording_gpio,
                                           stranger)

HIGH, LOW = 1, 0


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ActionsRig:
    return ActionsRig(monkeypatch, tmp_path)


def test_a_known_person_allowed_in_gets_the_green_led_and_a_door_pulse(rig: ActionsRig) -> None:
    rig.see(eileen(allow_entry=True))
    rig.advance(5)

    assert rig.writes == [(GREEN, HIGH, 0.0), (RELAY, HIGH, 0.0), (RELAY, LOW, 0.5), (GREEN, LOW, 2.0)]
    assert rig.deliver() == []  # the known rule does not alert


@pytest.mark.parametrize("allow_entry", [False, None, "true", 1], ids=["false", "no-details", "string", "int"])
def test_the_door_stays_shut_unless_the_record_says_true(rig: ActionsRig, allow_entry: object) -> None:
    rig.see(eileen(allow_entry=allow_entry))
    rig.advance(5)

    assert rig.writes == [(GREEN, HIGH, 0.0), (GREEN, LOW, 2.0)]


def test_a_stranger_gets_red_led_buzzer_and_an_alert_but_never_the_relay(rig: ActionsRig) -> None:
    rig.see(stranger(0.61))
    rig.advance(5)

    assert rig.writes == [(RED, HIGH, 0.0), (BUZZER, HIGH, 0.0), (BUZZER, LOW, 0.3), (RED, LOW, 2.0)]
    (alert,) = rig.deliver()
    assert (alert["rule"], alert["name"], alert["confidence"], alert["device_id"]) == ("unknown", "unknown", 0.61, "door-1")


def test_no_face_does_nothing_by_default(rig: ActionsRig) -> None:
    rig.see()
    rig.advance(5)

    assert rig.writes == [] and rig.deliver() == []


def test_one_visit_fires_once_and_a_new_visit_after_the_cooldown_fires_again(rig: ActionsRig) -> None:
    for seq in range(20):  # ten seconds at the door, a clip every half second
        rig.see(eileen(), seq=seq)
        rig.advance(0.5)
    assert rig.writes == [(GREEN, HIGH, 0.0), (RELAY, HIGH, 0.0), (RELAY, LOW, 0.5), (GREEN, LOW, 2.0)]

    rig.advance(29)  # 29.5 s since the last sighting: still the same visit (cool-down 30 s)
    rig.see(eileen(), seq=20)
    assert len(rig.writes) == 4

    rig.advance(30.5)  # more than 30 s since the last sighting: a new visit
    rig.see(eileen(), seq=21)
    assert rig.writes[4:] == [(GREEN, HIGH, 69.5), (RELAY, HIGH, 69.5)]


def test_the_unknown_cooldown_sends_one_alert_per_stranger_visit(rig: ActionsRig) -> None:
    for seq in range(10):
        rig.see(stranger(), seq=seq)
        rig.advance(1)
    rig.advance(61)
    rig.see(stranger(), seq=10)

    assert len(rig.deliver()) == 2
    assert [w for w in rig.writes if w[0] == BUZZER] == [(BUZZER, HIGH, 0.0), (BUZZER, LOW, 0.3), (BUZZER, HIGH, 71.0)]


def test_each_person_has_their_own_cooldown_and_strangers_with_them_are_reported(rig: ActionsRig) -> None:
    rig.see(eileen())
    rig.advance(1)
    rig.see({"name": "Alvaro_Uribe", "confidence": 0.9, "details": {"allow_entry": False}}, stranger(), seq=1)
    rig.advance(5)

    # Alvaro's green pulse extends Eileen's (on until 1 + 2 s); he does not open the door; the stranger beeps.
    assert rig.writes == [(GREEN, HIGH, 0.0), (RELAY, HIGH, 0.0), (RELAY, LOW, 0.5),
                          (RED, HIGH, 1.0), (BUZZER, HIGH, 1.0), (BUZZER, LOW, 1.3), (GREEN, LOW, 3.0), (RED, LOW, 3.0)]
    assert [a["name"] for a in rig.deliver()] == ["unknown"]


def test_a_backlog_after_an_outage_alerts_but_moves_no_pin(rig: ActionsRig) -> None:
    rig.see(eileen(), age_s=45)  # recognised 45 s after recording: the person is long gone
    rig.see(stranger(), seq=1, age_s=45)
    rig.advance(5)

    assert rig.writes == []
    (alert,) = rig.deliver()
    assert alert["time"] == utc_iso(rig.clock.now - 5 - 45)  # when the stranger was there, not when it was reported


def test_a_visit_resumed_newest_first_is_still_one_visit(rig: ActionsRig) -> None:
    t0 = rig.clock.now
    rig.clock.now = t0 + 100
    for seq in range(200, -1, -1):  # the clips of a 100 s visit, handed out newest first (backlog)
        rig.actions.sink.handle(recognition(t0 + seq * 0.5, stranger(), seq=seq))

    assert len(rig.deliver()) == 1


def test_shutdown_ends_running_pulses_and_later_timers_write_nothing(rig: ActionsRig) -> None:
    rig.see(stranger())
    rig.advance(0.1)
    rig.actions.close(flush_timeout_s=0)
    rig.advance(5)

    assert rig.writes == [(RED, HIGH, 0.0), (BUZZER, HIGH, 0.0), (RED, LOW, 0.1), (BUZZER, LOW, 0.1)]
    rig.see(stranger(), seq=1)
    assert len(rig.writes) == 4  # closed: no new pulse


def test_pins_start_off_with_active_low_outputs_held_high(monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler = ManualScheduler()
    gpio, writes = recording_gpio(monkeypatch, scheduler)
    setups: list[tuple] = []
    monkeypatch.setattr(gpio, "setup", lambda pin, mode, initial: setups.append((pin, mode, initial)))
    outputs = GpioOutputs(gpio, {"relay": Output("relay", 23, "door", active_low=True)}, scheduler)

    outputs.open()
    outputs.pulse("relay", 0.5)
    scheduler.advance(1)

    assert setups == [(23, gpio.OUT, HIGH)]  # off, for a relay board that switches on at 0 V
    assert writes == [(23, LOW, 0.0), (23, HIGH, 0.5)]


def test_a_shorter_pulse_never_cuts_a_longer_one(monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler = ManualScheduler()
    gpio, writes = recording_gpio(monkeypatch, scheduler)
    outputs = GpioOutputs(gpio, {"led": Output("led", 5)}, scheduler)
    outputs.open()

    outputs.pulse("led", 2.0)
    scheduler.advance(0.5)
    outputs.pulse("led", 0.5)  # ends at 1.0, before the running pulse
    scheduler.advance(3)

    assert writes == [(5, HIGH, 0.0), (5, LOW, 2.0)]


def test_the_real_scheduler_ends_pulses_on_time_and_at_close(monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler = ThreadScheduler()
    gpio, _ = recording_gpio(monkeypatch, ManualScheduler())
    ends: dict[int, float] = {}
    monkeypatch.setattr(gpio, "output", lambda pin, value: ends.__setitem__(pin, time.monotonic()) if not value else None)
    outputs = GpioOutputs(gpio, {"a": Output("a", 5), "b": Output("b", 6)}, scheduler)
    outputs.open()
    scheduler.start()
    started = time.monotonic()
    outputs.pulse("a", 0.05)
    outputs.pulse("b", 30.0)
    time.sleep(0.3)

    assert 0.04 <= ends[5] - started < 0.25 and 6 not in ends
    outputs.close()
    scheduler.close()
    assert 6 in ends and not outputs.is_on("b")
