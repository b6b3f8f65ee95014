"""GPIO actions on fake-rpi, driven by visits: the door relay opens only for a visit decided as a known person
allowed in, confirmed by N agreeing clips with no rival name, at most once per visit, never on a single
answer, for a stranger, an undecided visit or a backlog; strangers get one alert per visit; every pin
writes at the configured times and no pulse outlives the app."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from pi_app.actions.config import Output
from pi_app.actions.gpio_outputs import GpioOutputs
from pi_app.actions.scheduler import ManualScheduler, ThreadScheduler
from pi_app.runtime.events import utc_iso
from tests.unit.pi_actions_support import (BUZZER, GREEN, RED, RELAY, RULES, ActionsRig, alvaro, eileen, recognition,
                                           recording_gpio, stranger)

HIGH, LOW = 1, 0


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ActionsRig:
    return ActionsRig(monkeypatch, tmp_path)


def test_a_known_person_allowed_in_opens_the_door_on_the_second_agreeing_clip(rig: ActionsRig) -> None:
    rig.clips(eileen())
    assert rig.writes == []  # one answer decides nothing

    rig.clips(eileen())
    rig.advance(5)

    assert rig.writes == [(GREEN, HIGH, 0.5), (RELAY, HIGH, 0.5), (RELAY, LOW, 1.0), (GREEN, LOW, 2.5)]
    assert rig.deliver() == []  # the known rule does not alert
    (action,) = rig.published("visit_action")
    assert (action.rule, action.decision, action.door, action.door_reason) == (
        "known", "Eileen_Collins", True, "open")


def test_a_single_answer_never_opens_the_door_however_confident(rig: ActionsRig) -> None:
    rig.clips(eileen(confidence=1.0), None, None, None, None, None)
    rig.clips(eileen(confidence=1.0), None, None, None, None, None)  # two visits of one clip each

    assert rig.writes == []
    assert [e.decision for e in rig.published("visit_ended")] == ["undecided", "undecided"]


def test_names_alone_never_open_the_door(rig: ActionsRig) -> None:
    rig.clips(*[eileen(door=False, confidence=1.0)] * 8)  # named every time, never a door-grade match
    rig.advance(5)

    assert rig.door_openings == []
    assert rig.writes == [(GREEN, HIGH, 0.5), (GREEN, LOW, 2.5)]  # greeted, not let in
    assert rig.published("visit_action")[0].door_reason == "not_door_grade"


def test_door_grade_clips_need_the_doors_own_confidence(rig: ActionsRig) -> None:
    rig.clips(*[eileen(confidence=0.59)] * 4)  # door-grade, but under door_min_confidence (0.6)
    assert rig.door_openings == []

    rig.clips(eileen(confidence=0.95))  # one strong clip among weak ones is still one
    assert rig.door_openings == []
    rig.clips(eileen(confidence=0.95))
    assert len(rig.door_openings) == 1


@pytest.mark.parametrize("allow_entry", [False, None, "true", 1], ids=["false", "no-details", "string", "int"])
def test_the_door_stays_shut_unless_the_record_says_true(rig: ActionsRig, allow_entry: object) -> None:
    rig.clips(*[eileen(allow_entry=allow_entry)] * 4)
    rig.advance(5)

    assert rig.writes == [(GREEN, HIGH, 0.5), (GREEN, LOW, 2.5)]
    assert rig.published("visit_action")[0].door_reason == "not_allowed"


def test_the_door_waits_for_n_agreeing_clips_set_in_the_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rig = ActionsRig(monkeypatch, tmp_path, RULES.replace('door = { output = "door_relay", seconds = 0.5 }',
                                                          'door = { output = "door_relay", seconds = 0.5 }\n'
                                                          'door_min_clips = 4'))
    rig.clips(*[eileen()] * 3)
    assert rig.door_openings == []  # decided (green LED) but not confirmed enough for the door

    rig.clips(eileen())
    assert rig.door_openings == [1.5]


def test_the_door_opens_at_most_once_per_visit_and_again_in_the_next_visit(rig: ActionsRig) -> None:
    rig.clips(*[eileen()] * 20)  # ten seconds at the door
    rig.quiet(3)  # gone: the visit ends
    rig.clips(eileen(), eileen())  # back: a new visit

    assert rig.door_openings == [0.5, 13.5]
    assert len({e.visit_id for e in rig.published("visit_started")}) == 2


def test_one_wrong_answer_among_right_ones_never_opens_the_door_for_the_wrong_person(rig: ActionsRig) -> None:
    # The hard video: five right answers and one confident wrong one, with both people allowed in.
    rig.clips(eileen(confidence=0.9), alvaro(confidence=0.73), *[eileen(confidence=0.9)] * 4)
    rig.quiet(3)

    assert len(rig.door_openings) == 1  # for Eileen, once the wrong answer left the window...
    opened = [a for a in rig.published("visit_action") if a.door]
    assert [a.decision for a in opened] == ["Eileen_Collins"]
    assert rig.door_openings == [2.5]  # ...not while it was in the window (the latest 4 clips)
    (ended,) = rig.published("visit_ended")
    assert ended.decision == "Eileen_Collins" and ended.conflicts == ["Alvaro_Uribe", "Eileen_Collins"]


def test_a_visit_where_two_enrolled_names_disagree_opens_nothing_and_is_reported(rig: ActionsRig) -> None:
    rig.clips(eileen(), alvaro(confidence=0.97), eileen(), alvaro(confidence=0.97))
    rig.quiet(3)

    assert rig.door_openings == []
    conflict = [a for a in rig.published("visit_action") if a.rule == "conflict"]
    assert len(conflict) == 1 and conflict[0].names == ["Alvaro_Uribe", "Eileen_Collins"]
    (ended,) = rig.published("visit_ended")
    assert ended.decision == "Eileen_Collins" and ended.conflict == ["Alvaro_Uribe"]  # the latest window
    assert ended.conflicts == ["Alvaro_Uribe", "Eileen_Collins"]


def test_a_stranger_gets_red_led_buzzer_and_one_alert_but_never_the_relay(rig: ActionsRig) -> None:
    rig.clips(*[stranger(0.61)] * 8)
    rig.quiet(3)

    assert rig.writes == [(RED, HIGH, 1.0), (BUZZER, HIGH, 1.0), (BUZZER, LOW, 1.3), (RED, LOW, 3.0)]
    (alert,) = rig.deliver()
    assert (alert["rule"], alert["name"], alert["confidence"], alert["device_id"]) == ("unknown", "unknown", 0.61, "door-1")
    assert alert["visit_id"] == rig.published("visit_started")[0].visit_id


def test_the_stranger_alert_shows_the_visits_best_clip(rig: ActionsRig) -> None:
    rig.clips(stranger(0.55), stranger(0.8), stranger(0.6))

    (alert,) = rig.deliver()
    assert alert["confidence"] == 0.8
    assert alert["time"] == utc_iso(rig.clock.now - 1.0)  # the second clip's recording time


def test_a_known_face_that_starts_as_unknown_is_no_stranger(rig: ActionsRig) -> None:
    # Far away and blurred, the first answers are "unknown"; closer, the person is recognised.
    rig.clips(stranger(), stranger(), eileen(), eileen(), eileen())
    rig.quiet(3)

    assert rig.deliver() == [] and RED not in {pin for pin, _, _ in rig.writes}
    assert len(rig.door_openings) == 1


def test_nothing_acts_while_a_clip_inside_the_visit_is_unanswered(rig: ActionsRig) -> None:
    # Two workers, newest first: the three latest clips (unknown) come back before the two older ones that
    # show who it is. Acting on the three would alert about a stranger; the visit waits for its hole to fill.
    t0 = rig.clock.now
    rig.clock.now = t0 + 3
    for seq, face in ((4, stranger()), (3, stranger()), (2, stranger())):
        rig.actions.sink.handle(recognition(t0 + seq * 0.5, face, seq=seq))
    assert rig.published("visit_action") == []
    for seq in (1, 0):
        rig.actions.sink.handle(recognition(t0 + seq * 0.5, eileen(), seq=seq))

    assert rig.deliver() == [] and RED not in {pin for pin, _, _ in rig.writes}
    assert [a.decision for a in rig.published("visit_action")] == ["Eileen_Collins"]


def test_a_faceless_answer_that_fills_the_hole_lets_the_visit_act(rig: ActionsRig) -> None:
    t0 = rig.clock.now
    for seq in (0, 2, 3):  # clip 1 is still out
        rig.actions.sink.handle(recognition(t0 + seq * 0.5, eileen(), seq=seq))
    assert rig.door_openings == []
    rig.actions.sink.handle(recognition(t0 + 0.5, seq=1))  # no face in it after all

    assert len(rig.door_openings) == 1


def test_no_face_does_nothing_by_default(rig: ActionsRig) -> None:
    rig.quiet(5)

    assert rig.writes == [] and rig.deliver() == [] and rig.published("visit_started") == []


def test_each_stranger_visit_alerts_once(rig: ActionsRig) -> None:
    rig.clips(*[stranger()] * 10)
    rig.quiet(5)
    rig.clips(*[stranger()] * 4)

    assert len(rig.deliver()) == 2
    assert [w for w in rig.writes if w[0] == BUZZER] == [(BUZZER, HIGH, 1.0), (BUZZER, LOW, 1.3), (BUZZER, HIGH, 11.0),
                                                        (BUZZER, LOW, 11.3)]


def test_a_cooldown_keeps_a_rule_from_firing_again_in_the_next_visit(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    rig = ActionsRig(monkeypatch, tmp_path, RULES.replace("[on.unknown]\n", "[on.unknown]\ncooldown_s = 60\n"))
    rig.clips(*[stranger()] * 4)
    rig.quiet(5)
    rig.clips(*[stranger()] * 4)  # a second visit 7 s later: within the cool-down

    assert len(rig.deliver()) == 1 and len(rig.published("visit_started")) == 2


def test_two_people_at_once_are_two_visits_each_with_its_own_rule(rig: ActionsRig) -> None:
    rig.clips(*[(eileen(x=100), stranger(x=450))] * 4)
    rig.quiet(3)

    assert sorted(e.decision for e in rig.published("visit_ended")) == ["Eileen_Collins", "unknown"]
    assert len(rig.door_openings) == 1
    assert [a["name"] for a in rig.deliver()] == ["unknown"]


def test_two_strangers_at_once_send_two_alerts(rig: ActionsRig) -> None:
    rig.clips(*[(stranger(x=80), stranger(x=480))] * 4)

    assert len(rig.deliver()) == 2


def test_a_backlog_after_an_outage_alerts_but_moves_no_pin(rig: ActionsRig) -> None:
    for n in range(4):  # recognised 45 s after recording: the people are long gone
        rig.see(eileen(x=100), stranger(x=450), age_s=45 - 0.5 * n)
    rig.advance(5)

    assert rig.writes == []
    (alert,) = rig.deliver()
    assert alert["time"] == utc_iso(rig.clock.now - 5 - 45)  # when the stranger was there, not when it was reported
    assert [a.door_reason for a in rig.published("visit_action") if a.rule == "known"] == ["stale"]


def test_a_visit_resumed_newest_first_is_still_one_visit(rig: ActionsRig) -> None:
    t0 = rig.clock.now
    rig.clock.now = t0 + 100
    for seq in range(200, -1, -1):  # the clips of a 100 s visit, handed out newest first (backlog)
        rig.actions.sink.handle(recognition(t0 + seq * 0.5, stranger(), seq=seq))

    assert len(rig.deliver()) == 1
    assert len(rig.published("visit_started")) == 1


def test_shutdown_ends_running_pulses_and_visits_and_later_timers_write_nothing(rig: ActionsRig) -> None:
    rig.clips(stranger(), stranger(), stranger(), every_s=0.05)
    rig.actions.close(flush_timeout_s=0)
    rig.advance(5)

    assert rig.writes == [(RED, HIGH, 0.1), (BUZZER, HIGH, 0.1), (RED, LOW, 0.15), (BUZZER, LOW, 0.15)]
    (ended,) = rig.published("visit_ended")
    assert ended.reason == "shutdown" and ended.decision == "unknown"
    rig.clips(*[stranger()] * 4)
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
