"""Tracked clips (not sent: the same face as a decided visit's last answer) in the visit tracker and the actions:
they keep a visit going, never start one, never count for the door, and a different person's answers after them
still split the visit; the actions say when they are done with a visit."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from facegate_contract.device_events import ClipRecognition
from pi_app.recording.clip_names import clip_id
from pi_app.visits import VisitTracker
from pi_app.visits.evidence import clip_seen
from pi_app.visits.tracker import ENDED, STARTED, VisitChange
from tests.unit.pi_actions_support import ActionsRig, eileen, recognition, stranger
from tests.unit.test_pi_visit_identity import look

T0 = 1_790_000_000.0


def tracked(t: float, *faces: dict[str, Any], seq: int, reference_seq: int) -> ClipRecognition:
    """A `tracked` recognition event as the worker emits it: the reference clip's faces, not sent."""
    event = recognition(t, *faces, seq=seq, status="tracked")
    return msgspec.structs.replace(event, tracked_from=clip_id(T0 + 0.5 * reference_seq, reference_seq))


def test_a_tracked_face_is_never_door_grade_whatever_the_event_says() -> None:
    event = tracked(T0, eileen(door=True), seq=3, reference_seq=2)
    seen = clip_seen(event)
    assert seen is not None
    (vote,) = seen.votes
    assert vote.tracked_from and vote.door is False and vote.name == "Eileen_Collins"


def test_a_tracked_clip_never_starts_a_visit() -> None:
    tracker = VisitTracker()
    assert tracker.observe(tracked(T0, eileen(), seq=0, reference_seq=0)) == []
    assert not tracker.is_open()


def test_tracked_clips_keep_the_visit_open_and_decided_where_faceless_ones_end_it() -> None:
    tracker = VisitTracker()
    changes: list[VisitChange] = []
    for n in range(2):
        changes += tracker.observe(recognition(T0 + 0.5 * n, eileen(), seq=n))
    for n in range(2, 12):  # 5 s of the same face, not sent
        changes += tracker.observe(tracked(T0 + 0.5 * n, eileen(), seq=n, reference_seq=1))
    assert not [c for c in changes if c.kind == ENDED]
    (visit,) = tracker.open_at(T0 + 6.0)
    assert visit.decision.name == "Eileen_Collins" and visit.last_at == T0 + 5.5
    for n in range(12, 17):  # and now the doorway is empty
        changes += tracker.observe(recognition(T0 + 0.5 * n, seq=n))
    assert [c.visit.decision.name for c in changes if c.kind == ENDED] == ["Eileen_Collins"]


def test_a_different_person_answered_after_tracked_clips_still_splits_the_visit() -> None:
    tracker = VisitTracker()
    changes: list[VisitChange] = []

    def see(n: int, person: str, event: ClipRecognition) -> None:
        tracker.note_appearance(event.clip, [look(person, seed=n)])
        changes.extend(tracker.observe(event))

    for n in range(3):
        see(n, "eileen", recognition(T0 + 0.5 * n, eileen(), seq=n))
    for n in range(3, 6):  # the worker hands the reference's descriptor with a tracked clip
        see(n, "eileen", tracked(T0 + 0.5 * n, eileen(), seq=n, reference_seq=2))
    for n in range(6, 10):  # a stranger in the same spot, no gap: the check failed, the API answered
        see(n, "s1", recognition(T0 + 0.5 * n, stranger(), seq=n))
    started = [c.visit for c in changes if c.kind == STARTED]
    assert len(started) == 2
    assert [v.votes[0].name for v in started] == ["Eileen_Collins", "unknown"]


def _rig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ActionsRig:
    return ActionsRig(monkeypatch, tmp_path)


def test_tracked_clips_never_open_the_door_and_the_actions_are_not_done_until_it_opens(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rig = _rig(monkeypatch, tmp_path)
    rig.clips(eileen(door=True), eileen(door=False))  # decided, but one door-grade clip of the two needed
    (visit,) = rig.actions.visits.open_at(rig.clock.now)
    assert visit.decision.name == "Eileen_Collins" and not rig.door_openings
    assert not rig.actions.sink.done_with(visit)  # the door still needs answers: keep recognising
    for _ in range(4):  # tracked copies of a door-grade answer
        rig.actions.sink.handle(tracked(rig.clock.now, eileen(door=True), seq=rig.seq, reference_seq=0))
        rig.seq += 1
        rig.advance(0.5)
    assert not rig.door_openings
    rig.clips(eileen(door=True))  # a real second door-grade answer
    assert len(rig.door_openings) == 1
    (visit,) = rig.actions.visits.open_at(rig.clock.now)
    assert rig.actions.sink.done_with(visit)


def test_a_stranger_visit_is_done_with_once_alerted_and_a_person_not_allowed_in_once_refused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rig = _rig(monkeypatch, tmp_path)
    rig.clips(stranger(), stranger())
    (visit,) = rig.actions.visits.open_at(rig.clock.now)
    assert not visit.decision.decided and not rig.actions.sink.done_with(visit)
    rig.clips(stranger())
    (visit,) = rig.actions.visits.open_at(rig.clock.now)
    assert visit.decision.name == "unknown" and rig.actions.sink.done_with(visit)
    rig.quiet()
    rig.clips(eileen(allow_entry=False, door=True), eileen(allow_entry=False, door=True))
    (visit,) = rig.actions.visits.open_at(rig.clock.now)
    assert not rig.door_openings and rig.actions.sink.done_with(visit)


def test_a_person_not_allowed_in_is_done_with_once_named_door_grade_or_not(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rig = _rig(monkeypatch, tmp_path)
    rig.clips(eileen(allow_entry=False, door=False), eileen(allow_entry=False, door=False))  # far, dim: not door-grade
    (visit,) = rig.actions.visits.open_at(rig.clock.now)
    assert visit.decision.name == "Eileen_Collins" and not rig.door_openings
    assert rig.actions.sink.done_with(visit)  # no door-grade clip could open the door for her


@pytest.mark.parametrize("allow_entry", [True, None])  # may enter; no record found (a failed lookup is no refusal)
def test_a_person_named_without_door_grade_clips_is_not_done_with_unless_refused_entry(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, allow_entry: Any) -> None:
    rig = _rig(monkeypatch, tmp_path)
    rig.clips(eileen(allow_entry=allow_entry, door=False), eileen(allow_entry=allow_entry, door=False))
    (visit,) = rig.actions.visits.open_at(rig.clock.now)
    assert visit.decision.name == "Eileen_Collins" and not rig.actions.sink.done_with(visit)


def test_one_answer_of_the_name_that_allows_entry_keeps_the_visit_answered(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The record changed (or one lookup said otherwise) within the window: not a sure refusal, keep asking.
    rig = _rig(monkeypatch, tmp_path)
    rig.clips(eileen(allow_entry=False, door=False), eileen(allow_entry=True, door=False))
    (visit,) = rig.actions.visits.open_at(rig.clock.now)
    assert visit.decision.name == "Eileen_Collins" and not rig.actions.sink.done_with(visit)


def test_the_contract_lists_every_final_status_the_device_gives() -> None:
    from facegate_contract.device_events import RECOGNITION_STATUSES
    from pi_app.recording import clip_state as s

    assert RECOGNITION_STATUSES == {s.RECOGNISED, s.UNKNOWN, s.NO_FACE, s.REFUSED, s.SKIPPED_STALE, s.SKIPPED_STILL,
                                    s.SKIPPED_NO_FRAME, s.SKIPPED_RECOVERED, s.TRACKED}


def test_tracked_clips_are_counted_apart_from_answers_and_uploaded_under_the_visits_policy() -> None:
    from pi_app.recording.clip_state import ClipState
    from pi_app.recording.upload_policy import UploadPolicy, wants_upload
    from pi_app.runtime.stats import Stats

    stats = Stats()
    stats.handle(tracked(T0, eileen(), seq=3, reference_seq=2))
    counts = stats.counters()
    assert counts["tracked"] == 1 and counts["recognised"] == 0
    assert stats.summary()["latency_ms"]["n"] == 0  # no request, no latency
    state = ClipState("c", "d", "k", T0, T0, 10, 0.5, "mp4v", 0, 1.0)
    state.recognition.status = "tracked"
    assert wants_upload(state, UploadPolicy(mode="visits"), in_visit=False, alerted=False)
