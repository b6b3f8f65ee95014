"""Visits without threads or pins: the decision is a pure function of the votes (agreement, weights, window,
conflicts), and the tracker groups clips into visits by recording time and box — the same visits and
decisions whatever order the answers arrive in — and ends them only once the gap is covered."""
from __future__ import annotations

import random
import re
from typing import Any

import pytest
from msgspec.structs import replace

from facegate_contract import wire
from facegate_contract.device_events import ClipRecognition, ClipRecorded, DeviceEvent, VisitEvent
from facegate_contract.wire import EvidenceVote, RecognizeAnswer, WireError, convert, decode, encode
from pi_app.visits import UNDECIDED, DecisionPolicy, VisitConfig, VisitTracker, Vote, decide, visit_event
from pi_app.visits.evidence import Box, clip_seen
from pi_app.visits.tracker import DECIDED, ENDED, EVIDENCE, MISSING_CLIP_WAIT_S, STARTED, VisitChange
from tests.unit.pi_actions_support import alvaro, box, eileen, recognition, stranger
from tests.unit.pi_support import FakeClock, answer as answer_of

T0 = 1_790_000_000.0
POLICY = DecisionPolicy()
E, A, U = "Eileen_Collins", "Alvaro_Uribe", "unknown"


def votes(*answers: tuple[str, float] | str, boxes: bool = False) -> list[Vote]:
    """One vote per clip, 0.5 s apart: a name (confidence 0.9) or (name, confidence)."""
    made = []
    for n, answer in enumerate(answers):
        name, confidence = (answer, 0.9) if isinstance(answer, str) else answer
        made.append(Vote(f"c{n:03d}", f"k{n}", n, T0 + 0.5 * n, name, confidence,
                         Box(300, 200, 360, 260) if boxes else None))
    return made


# --- decisions -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("answers, expected", [
    ((E,), UNDECIDED),  # one answer decides nothing
    ((E, E), E),
    ((U, U), UNDECIDED),  # a stranger needs three clips: known faces far away often start as unknown
    ((U, U, U), U),
    ((E, A), UNDECIDED),
    ((E, A, E), E),
    (((E, 0.55), (A, 0.95), (E, 0.55)), UNDECIDED),  # two clips, but not most of the weight
    ((U, U, E, E, E), E),  # recognised once close enough
    ((E, E, E, U, U, U), E),  # turning away at the end: a decision holds until another one is made
    ((E, E, A, A, A), A),  # someone else took their place: decided again
])
def test_decisions_need_agreeing_clips_and_most_of_the_weight(answers: tuple, expected: str) -> None:
    assert decide(votes(*answers), POLICY).name == expected


def test_one_confident_wrong_answer_among_five_right_ones_is_outvoted_but_reported() -> None:
    answers = [(E, 0.8), (E, 0.8), (A, 0.73), (E, 0.8), (E, 0.8), (E, 0.8), (E, 0.8)]
    during = decide(votes(*answers[:6]), POLICY)
    after = decide(votes(*answers), POLICY)

    assert (during.name, during.conflict, during.agreeing) == (E, (A,), 3)
    assert during.votes == {A: pytest.approx(0.73), E: pytest.approx(2.4)}
    assert (after.name, after.conflict, after.agreeing) == (E, (), 4)  # the wrong one left the window
    assert after.votes == {E: pytest.approx(3.2)} and after.share == 1.0


def test_the_window_is_the_latest_clips_by_recording_time_not_by_arrival() -> None:
    evidence = votes(A, A, A, E, E, E, E)
    shuffled = evidence[::-1]

    assert decide(shuffled, POLICY) == decide(evidence, POLICY)
    assert decide(shuffled, POLICY).clips == {E: 4}


def test_the_policy_sets_the_agreement_needed() -> None:
    strict = DecisionPolicy(window_clips=6, min_clips=4, unknown_min_clips=4, min_share=0.9)

    assert decide(votes(E, E, E), strict).name == UNDECIDED
    assert decide(votes(E, E, E, E), strict).name == E
    assert decide(votes(E, E, E, E, U), strict).name == E  # held: no other label was decided
    assert decide(votes(U, E, E, E, E), strict).name == UNDECIDED  # 4 of 5, 80 % of the weight < 90 %


def test_a_decision_without_confidences_counts_each_clip_the_same() -> None:
    decision = decide(votes((E, None), (E, None), (U, None)), POLICY)  # type: ignore[arg-type]

    assert decision.name == E and decision.share == pytest.approx(2 / 3) and decision.confidence is None


# --- evidence --------------------------------------------------------------------------------------------

def test_a_recognition_event_gives_one_vote_per_face_with_box_and_sighting() -> None:
    face = {**eileen(x=100), "sighting_id": "s-42"}
    seen = clip_seen(recognition(T0, face, stranger(x=400), seq=7))

    assert seen is not None and seen.seq == 7 and seen.at == T0
    first, second = seen.votes
    assert (first.name, first.box, first.sighting_id, first.details["allow_entry"]) == (
        E, Box(100, 200, 160, 260), "s-42", True)
    assert second.name == U and second.sighting_id is None
    assert first.to_evidence().sighting_id == "s-42" and second.to_evidence().sighting_id is None


@pytest.mark.parametrize("value", [None, {"x1": 1}, [1, 2, 3], {"x1": 5, "y1": 5, "x2": 5, "y2": 9},
                                   {"x1": "a", "y1": 0, "x2": 1, "y2": 1}, {"x1": 0, "y1": 0, "x2": 1e400, "y2": 1}])
def test_an_answer_with_a_malformed_box_is_refused_whole(value: object) -> None:
    body = encode({"faces": [{"name": E, "confidence": 0.9, "box": value}], "model_version": "m"})
    with pytest.raises(WireError, match="box"):
        decode(body, RecognizeAnswer)


def test_clips_without_answers_only_mark_time() -> None:
    for status in ("no_face", "refused", "skipped_stale", "skipped_still"):
        seen = clip_seen(replace(recognition(T0, eileen(), seq=3), status=status))
        assert seen is not None and seen.votes == ()
    assert clip_seen(ClipRecognition(clip="x", status="recognised")) is None  # no recording time


# --- the tracker ---------------------------------------------------------------------------------------------

def events_of(changes: list[VisitChange]) -> list[Any]:
    return [e for e in map(visit_event, changes) if e is not None]


def play(tracker: VisitTracker, clips: list[ClipRecognition]) -> list[VisitChange]:
    return [change for clip in clips for change in tracker.observe(clip)]


def scene(*frames: tuple[dict, ...] | dict | None, start_seq: int = 0) -> list[ClipRecognition]:
    """Recognition events of consecutive clips, 0.5 s apart."""
    made = []
    for n, faces in enumerate(frames):
        faces = () if faces is None else faces if isinstance(faces, tuple) else (faces,)
        made.append(recognition(T0 + 0.5 * (start_seq + n), *faces, seq=start_seq + n))
    return made


def visits_of(changes: list[VisitChange]) -> dict[str, tuple[str, int]]:
    """visit id -> (final decision, clips) from the ENDED changes."""
    return {c.visit.id: (c.visit.decision.name, len(c.visit.votes)) for c in changes if c.kind == ENDED}


def test_a_visit_starts_is_decided_and_ends_after_the_gap_with_its_evidence() -> None:
    tracker = VisitTracker()
    changes = play(tracker, scene(eileen(), eileen(), eileen(), None, None, None, None, None))

    assert [c.kind for c in changes] == [STARTED, DECIDED, EVIDENCE, ENDED]
    started, decided, ended = events_of(changes)
    assert started.name == "visit_started" and started.decision == UNDECIDED
    assert decided.name == "visit_decided" and decided.decision == E and decided.previous == UNDECIDED
    assert ended.name == "visit_ended" and ended.reason == "gap" and ended.ended is True
    assert started.visit_id == decided.visit_id == ended.visit_id
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}", ended.visit_id)
    assert (ended.first_at, ended.last_at) == (T0, T0 + 1.0)
    assert ended.start == "2026-09-21T14:13:20.000Z"
    assert len(ended.clips) == len(ended.keys) == 3 and ended.keys[0].startswith("clips/door-1/")
    assert ended.evidence[0] == EvidenceVote(clip=ended.clips[0], key=ended.keys[0], at=T0, name=E, confidence=0.97,
                                             box=wire.Box(300, 200, 360, 260))
    assert (ended.agreeing, ended.votes, ended.clips[1:2], ended.conflict) == (
        3, {E: pytest.approx(2.91)}, [ended.evidence[1].clip], [])


def test_the_visit_stays_open_through_a_gap_shorter_than_end_after_s() -> None:
    tracker = VisitTracker(VisitConfig(end_after_s=2.0))
    changes = play(tracker, scene(eileen(), None, None, None, eileen(), eileen(), *[None] * 5))

    assert list(visits_of(changes).values()) == [(E, 3)]
    assert not tracker.is_open()


def test_a_longer_gap_makes_two_visits_with_different_ids() -> None:
    changes = play(VisitTracker(), scene(eileen(), eileen(), *[None] * 6, eileen(), eileen(), *[None] * 6))

    assert list(visits_of(changes).values()) == [(E, 2), (E, 2)]


def test_two_people_at_once_are_two_visits_by_their_boxes() -> None:
    both = (eileen(x=100), stranger(x=450))
    changes = play(VisitTracker(), scene(both, both, (stranger(x=460), eileen(x=110)), both, *[None] * 5))

    assert sorted(visits_of(changes).values()) == [(E, 4), (U, 4)]


def test_a_face_walking_across_the_frame_stays_one_visit_and_a_far_one_is_another() -> None:
    walking = [eileen(x=60 + 90 * n) for n in range(5)]  # 90 px per clip: 1.5 face sizes
    changes = play(VisitTracker(), scene(*walking, None, None, None, None, None))
    assert list(visits_of(changes).values()) == [(E, 5)]

    jump = [eileen(x=20), eileen(x=20), eileen(x=500), eileen(x=500)]  # 8 face sizes away: someone else
    assert len(visits_of(play(VisitTracker(), scene(*jump, *[None] * 5)))) == 2


def test_a_wrong_answer_joins_the_visit_it_belongs_to() -> None:
    changes = play(VisitTracker(), scene(eileen(), eileen(), alvaro(), *[eileen()] * 4, *[None] * 5))

    ((decision, clips),) = visits_of(changes).values()
    assert (decision, clips) == (E, 7)
    ended = events_of(changes)[-1]
    assert ended.conflicts == [A, E] and ended.conflict == []  # it left the window by the end


@pytest.mark.parametrize("seed", range(6))
def test_any_arrival_order_gives_the_same_visits_and_decisions(seed: int) -> None:
    clips = scene(eileen(), eileen(), (eileen(), stranger(x=500)), stranger(x=500), stranger(x=510), None, None, None,
                  None, None, alvaro(), alvaro(), alvaro(), None, None, None, None, None)
    expected = sorted(visits_of(play(VisitTracker(), clips)).values())
    shuffled = clips[:]
    random.Random(seed).shuffle(shuffled)

    assert sorted(visits_of(play(VisitTracker(), shuffled)).values()) == expected == [(A, 3), (E, 3), (U, 3)]


@pytest.mark.parametrize("seed", range(8))
def test_a_long_visit_answered_out_of_order_is_one_visit(seed: int) -> None:
    # 6 s of one face: a clip answered 2 s after the last one answered so far waits for the clips between
    # (they may well have the face) instead of starting a second visit that a few wrong answers could decide
    clips = scene(*[eileen()] * 6, stranger(), stranger(), stranger(), *[eileen()] * 3, *[None] * 6)
    shuffled = clips[:]
    random.Random(seed).shuffle(shuffled)

    assert list(visits_of(play(VisitTracker(), shuffled)).values()) == [(E, 12)]


def test_a_later_face_waits_for_the_clips_between_and_then_joins() -> None:
    clips = scene(*[eileen()] * 8, *[None] * 6)
    tracker = VisitTracker()
    first = play(tracker, clips[:2] + clips[6:8])  # clips 2-5 still with the other workers

    assert [c.kind for c in first] == [STARTED, DECIDED]  # clips 6 and 7 are held, no second visit
    rest = play(tracker, clips[2:6] + clips[8:])
    assert list(visits_of(rest).values()) == [(E, 8)]


def test_a_held_face_starts_its_own_visit_once_the_clips_between_come_back_empty() -> None:
    clips = scene(eileen(), eileen(), *[None] * 5, eileen(), eileen(), *[None] * 6)
    tracker = VisitTracker()
    play(tracker, clips[:2] + clips[7:9])

    changes = play(tracker, clips[2:7] + clips[9:])
    assert list(visits_of(changes).values()) == [(E, 2), (E, 2)]


def test_a_face_held_by_a_clip_that_never_comes_is_placed_once_the_visit_gives_up_on_it() -> None:
    clips = scene(eileen(), eileen(), None, None, None, None, eileen(), eileen(), *[None] * 70)
    del clips[3]  # lost in a crash, between the two sightings
    clock = FakeClock()
    tracker = VisitTracker(clock=clock)
    held = play(tracker, clips[:-1])
    assert [c.kind for c in held] == [STARTED, DECIDED]  # the second pair waits for the lost clip

    clock.advance(MISSING_CLIP_WAIT_S)
    changes = play(tracker, clips[-1:])  # the first visit ends, and the pair is placed in the same step
    assert [(c.kind, len(c.visit.votes)) for c in changes if c.kind in (STARTED, ENDED)] == [(ENDED, 2), (STARTED, 1)]
    assert [len(c.visit.votes) for c in tracker.end_all()] == [2]


def test_end_all_places_held_faces_before_closing() -> None:
    clips = scene(*[eileen()] * 8)
    tracker = VisitTracker()
    play(tracker, clips[:2] + clips[6:8])

    assert sorted(len(c.visit.votes) for c in tracker.end_all() if c.kind == ENDED) == [2, 2]


def test_newest_first_after_an_outage_is_one_visit_per_visit() -> None:
    clips = scene(*[stranger()] * 10, *[None] * 6, *[eileen()] * 4, *[None] * 6)

    changes = play(VisitTracker(), clips[::-1])

    assert sorted(visits_of(changes).values()) == [(E, 4), (U, 10)]


def test_a_visit_waits_for_a_slow_answer_inside_its_gap() -> None:
    clips = scene(eileen(), eileen(), None, eileen(), None, None, None, None, None)
    tracker = VisitTracker()
    early = play(tracker, clips[:2] + clips[4:])  # clip 3 (with the face) is still with the other worker

    assert not any(c.kind == ENDED for c in early) and tracker.is_open()
    late = play(tracker, clips[2:4])

    assert list(visits_of(late).values()) == [(E, 3)]


def test_a_clip_that_never_comes_stops_holding_the_visit_after_a_while_of_the_devices_time() -> None:
    clips = scene(eileen(), eileen(), *[None] * 70)
    del clips[3]  # lost in a crash
    clock = FakeClock()
    tracker = VisitTracker(clock=clock)

    # 35 s of recordings answered in no device time at all (a fast replay): the hole still holds the visit...
    assert not any(c.kind == ENDED for c in play(tracker, clips[:-1]))
    clock.advance(MISSING_CLIP_WAIT_S)  # ...until the device itself has waited that long
    (ended,) = [c for c in play(tracker, clips[-1:]) if c.kind == ENDED]
    assert ended.visit.end_reason == "missing_clips"


def test_the_same_answer_twice_counts_once() -> None:
    clips = scene(eileen(), eileen())
    tracker = VisitTracker()
    play(tracker, clips)

    assert play(tracker, clips) == []


def test_is_open_answers_for_a_clip_time_and_end_all_closes_everything() -> None:
    tracker = VisitTracker(VisitConfig(end_after_s=2.0))
    play(tracker, scene(eileen(), eileen()))

    assert tracker.is_open() and tracker.is_open(T0 + 2.5) and not tracker.is_open(T0 + 3.1)
    (ended,) = tracker.end_all()
    assert ended.visit.end_reason == "shutdown" and not tracker.is_open() and tracker.end_all() == []


def test_visit_ids_are_unique() -> None:
    tracker = VisitTracker()
    simultaneous = [(eileen(x=40 + 130 * n)) for n in range(4)]
    changes = play(tracker, scene(tuple(simultaneous)))

    ids = {c.visit.id for c in changes}
    assert len(ids) == 4 and len({i[:20] for i in ids}) == 1  # same stamp, different suffixes


def test_a_long_visit_keeps_its_latest_evidence_and_its_decision() -> None:
    clips = scene(*[eileen()] * 130, *[stranger()] * 2, *[None] * 5)
    changes = play(VisitTracker(), clips)

    (ended,) = [c.visit for c in changes if c.kind == ENDED]
    assert (ended.decision.name, len(ended.votes), ended.dropped) == (E, 120, 12)
    assert ended.first_at == T0
    assert visit_event(VisitChange(ENDED, ended)).evidence_dropped == 12


def test_box_geometry() -> None:
    a, b = Box.of(convert(box(0, 0, 60), wire.Box)), Box(30, 0, 90, 60)
    assert a.iou(b) == pytest.approx(1 / 3) and a.shift(b) == pytest.approx(0.5)
    assert a.to_wire() == wire.Box(0, 0, 60, 60)


def test_the_first_visit_of_a_run_waits_for_no_clip_from_before_the_run() -> None:
    clips = scene(eileen(), eileen(), *[None] * 5, start_seq=100)  # the spool held clips up to 99 at start
    told, untold = VisitTracker(), VisitTracker()
    told.observe(ClipRecorded(clip=clips[0].clip))

    assert [c.kind for c in play(told, clips)][-1] == ENDED
    assert ENDED not in [c.kind for c in play(untold, clips)]  # clips 98, 99 might still be answered


def test_the_clip_state_keeps_each_faces_box_and_sighting_for_visits() -> None:
    from pi_app.recording.clip_state import RecognitionRecord
    from pi_app.transport.recognize_client import Recognition

    record = RecognitionRecord()
    api_face = {**eileen(x=100), "distance": 0.41, "sighting_id": "s-1"}
    record.record_answer(Recognition(answer_of([api_face, {"name": "unknown", "confidence": 0.7, "box": box(300)}]), 10.0))

    first, second = record.faces
    assert (first.name, first.confidence, first.details, first.box, first.sighting_id, first.door) == (
        E, 0.97, api_face["details"], convert(box(100), wire.Box), "s-1", True)
    assert (second.name, second.sighting_id, second.door) == (U, None, False)  # no sighting: none invented
    assert record.confidence == 0.97 and record.names == [E, U]


def test_visit_events_reach_the_bus_through_the_relay_without_deadlock() -> None:
    from pi_app.runtime.event_relay import EventRelay
    from pi_app.runtime.events import EventBus
    from pi_app.visits import VisitSink

    seen: list[DeviceEvent] = []

    class Collect:
        def handle(self, event: DeviceEvent) -> None:
            seen.append(event)

    bus = EventBus([Collect()])
    relay = EventRelay(bus.emit).start()
    bus.add(VisitSink(VisitTracker(), publish=relay.put))  # handles under the bus lock: must not emit itself
    for event in scene(eileen(), eileen(), *[None] * 5):
        bus.emit(event)
    relay.close()

    visit_events = [e.name for e in seen if isinstance(e, VisitEvent)]
    assert visit_events == ["visit_started", "visit_decided", "visit_ended"]
    assert all(e.ts for e in seen)  # stamped by the bus like any event


# --- which clips showed nobody (the motion gate asks, inside a visit) ---------------------------------------------

def test_a_clip_after_a_no_face_answer_follows_an_empty_frame_and_a_still_chain_carries_it() -> None:
    tracker = VisitTracker()
    first, after = recognition(T0, seq=10), recognition(T0 + 0.5, seq=11, status="skipped_still")
    third = recognition(T0 + 1.0, seq=12)

    assert not tracker.empty_before(after.clip)  # not answered yet: cannot tell
    tracker.observe(first)  # no face
    assert tracker.empty_before(after.clip)
    tracker.observe(after)  # skipped as still right after it: nobody there either
    assert tracker.empty_before(third.clip)
    assert not tracker.empty_before(recognition(T0 + 5, seq=20).clip)  # its neighbour was never answered
    assert not tracker.empty_before("not-a-clip-id")


def test_a_face_or_a_still_clip_without_an_empty_one_before_it_starts_no_chain() -> None:
    tracker = VisitTracker()
    tracker.observe(recognition(T0, eileen(), seq=30))
    tracker.observe(recognition(T0 + 1.0, seq=32, status="skipped_still"))  # clip 31 (before it) never answered
    tracker.observe(recognition(T0 + 2.0, seq=34, status="refused"))  # refused: nobody knows what it showed

    assert not tracker.empty_before(recognition(T0 + 0.5, seq=31).clip)  # after a face
    assert not tracker.empty_before(recognition(T0 + 1.5, seq=33).clip)  # after a still clip of no known emptiness
    assert not tracker.empty_before(recognition(T0 + 2.5, seq=35).clip)
