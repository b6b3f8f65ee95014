"""The tracking skip in the worker: a clip of a decided visit is left unsent (`tracked`) only while the visit is
decided, done with by the actions, its last recognised clip is fresh and recorded before the clip, and the same face
is still there; a heartbeat every recheck_s, a changed face, an ended visit or an answer from later all send it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facegate_contract.device_events import ClipRecognition, DeviceEvent
from facegate_contract.wire import Face, convert, to_builtins
from pi_app.recording.clip_state import RECOGNISED, TRACKED
from pi_app.recording.clip_names import clip_id
from pi_app.recording.image_encoding import encode_jpeg
from pi_app.recording.spool import FRAME_FILE, Spool
from pi_app.runtime.clip_worker import ClipWorker
from pi_app.visits import Decision, VisitTracker, Vote
from pi_app.visits.evidence import Box
from pi_app.visits.tracker import VisitView
from pi_app.visits.tracking_skip import TrackingPolicy, TrackingSkip
from tests.unit.pi_support import FakeClock, FakeRecognizer, FakeUploader, add_clip
from tests.unit.same_face_support import BOX, OTHER, frame

FACE = {"name": "Eileen_Collins", "confidence": 0.97, "door": True, "descriptor": "AAECAwQFBgc=",
        "box": {"x1": BOX.x1, "y1": BOX.y1, "x2": BOX.x2, "y2": BOX.y2}, "details": {"allow_entry": True},
        "sighting_id": "s-ref"}


class Rig:
    """One worker with a real visit tracker fed by its events, a fake recognizer answering FACE, and a switch for
    what the actions say (`done`)."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.clock = FakeClock()
        self.spool = Spool(root)
        self.recognizer = FakeRecognizer(faces=[FACE])
        self.tracker = VisitTracker(clock=self.clock)
        self.done = True
        self.asked: list[VisitView] = []
        self.events: list[DeviceEvent] = []
        self.skip = TrackingSkip(TrackingPolicy(enabled=enabled), self.tracker.open_at, self._done_with,
                                 self.tracker.answered_between)
        self.worker = ClipWorker(self.spool, self.recognizer, FakeUploader(), self._emit, clock=self.clock,
                                 visit_open=self.tracker.is_open, appearance=self.tracker.note_appearance,
                                 tracking=self.skip)
        self.seq = 0
        self.t0 = self.clock.now

    def _done_with(self, visit: VisitView) -> bool:
        self.asked.append(visit)
        return self.done

    def _emit(self, event: DeviceEvent) -> None:
        self.events.append(event)
        self.tracker.observe(event)

    def record(self, rgb: np.ndarray | None = None) -> str:
        """A clip 0.5 s after the last one, its chosen frame `rgb` (the face at its place by default)."""
        state = add_clip(self.spool, self.seq, self.t0 + 0.5 * self.seq)
        (self.spool.folder(state.clip) / FRAME_FILE).write_bytes(encode_jpeg(frame() if rgb is None else rgb))
        self.seq += 1
        return state.clip

    def work(self, *clips: str) -> list[str]:
        """Process the clips in this order; their recognition statuses."""
        for clip in clips:
            assert self.worker.process(clip) is None
        return [self.recognition(clip).status for clip in clips]

    def recognition(self, clip: str) -> ClipRecognition:
        (event,) = [e for e in self.events if isinstance(e, ClipRecognition) and e.clip == clip]
        return event

    def clips(self, n: int, rgb: np.ndarray | None = None) -> list[str]:
        return [self.record(rgb) for _ in range(n)]


def test_clips_of_a_decided_and_done_visit_with_the_same_face_are_not_sent_but_a_heartbeat_is(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    clips = rig.clips(9)

    statuses = rig.work(*clips)

    # 0-1 decide the visit; 2 (0.5 s after 1), 3 (1 s) and 4 (1.5 s) are tracked; 5 is 2 s after the last
    # recognised clip (1): the heartbeat, sent; then 6-8 are tracked again, from 5.
    assert statuses == [RECOGNISED, RECOGNISED, TRACKED, TRACKED, TRACKED, RECOGNISED, TRACKED, TRACKED, TRACKED]
    assert len(rig.recognizer.calls) == 3
    tracked = rig.recognition(clips[6])
    assert tracked.tracked_from == clips[5] and tracked.names == ["Eileen_Collins"]
    (face,) = to_builtins(tracked.faces)
    assert face["door"] is False and face["descriptor"] is None and face["confidence"] == 0.97
    assert face["sighting_id"] is None  # the API saw only the reference
    (view,) = rig.tracker.open_at(rig.t0 + 4.0)
    assert view.decision.name == "Eileen_Collins" and view.last_at == rig.t0 + 4.0  # tracked clips keep it going
    tracked_votes = [v for v in view.votes if v.tracked_from]
    assert len(tracked_votes) == 6 and all(v.descriptor == bytes(range(8)) and not v.door for v in tracked_votes)


def test_nothing_is_tracked_until_the_actions_are_done_with_the_visit(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.done = False  # e.g. the door waits for more door-grade clips
    assert rig.work(*rig.clips(4)) == [RECOGNISED] * 4
    assert rig.asked  # the actions were asked, about the decided visit
    rig.done = True
    assert rig.work(rig.record()) == [TRACKED]


def test_an_undecided_visit_is_never_tracked(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.worker.recognizer = FakeRecognizer(faces=[{**FACE, "name": "unknown"}])  # unknown needs 3 clips
    assert rig.work(*rig.clips(4)) == ["unknown", "unknown", "unknown", TRACKED]


def test_a_changed_face_or_motion_elsewhere_is_sent(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.work(*rig.clips(2))
    assert rig.work(rig.record(frame(OTHER))) == [RECOGNISED]  # another face at the place: the API decides
    assert rig.work(rig.record(frame(second=OTHER))) == [RECOGNISED]  # someone stepping in beside
    assert rig.work(rig.record()) == [RECOGNISED]  # and leaving again: against that last answer, motion too
    assert rig.work(rig.record()) == [TRACKED]


def test_only_a_reference_recorded_before_the_clip_counts(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.work(*rig.clips(2))
    third, fourth = rig.clips(2)
    rig.done = False
    assert rig.work(fourth) == [RECOGNISED]  # answered first (another worker, a backlog)
    rig.done = True
    # The visit's last recognised clip is now `fourth`, recorded after `third` (and `third` is a hole in the visit
    # until answered): no reference for it, it is sent.
    assert rig.work(third) == [RECOGNISED]
    assert rig.work(rig.record()) == [TRACKED]


def test_an_ended_visit_tracks_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.work(*rig.clips(2))
    rig.worker.recognizer = FakeRecognizer(faces=[])
    rig.work(*rig.clips(5, frame(None)))  # 2.5 s of an empty doorway: the visit ends
    assert not rig.tracker.is_open()
    rig.worker.recognizer = FakeRecognizer(faces=[FACE])
    assert rig.work(rig.record()) == [RECOGNISED]


def test_a_visit_in_conflict_is_never_tracked(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.work(*rig.clips(2))
    rig.worker.recognizer = FakeRecognizer(faces=[{**FACE, "name": "Alvaro_Uribe"}])
    rig.work(rig.record(frame(OTHER)))  # another enrolled name in the window: a conflict
    rig.worker.recognizer = FakeRecognizer(faces=[FACE])
    assert rig.work(*rig.clips(3)) == [RECOGNISED] * 3


@pytest.mark.parametrize("enabled", [False])
def test_off_every_clip_is_sent(tmp_path: Path, enabled: bool) -> None:
    rig = Rig(tmp_path, enabled=enabled)
    assert rig.work(*rig.clips(5)) == [RECOGNISED] * 5


def test_a_clip_is_not_tracked_while_one_between_it_and_the_reference_is_still_out(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    clips = rig.clips(5)
    assert rig.work(*clips[:3]) == [RECOGNISED, RECOGNISED, TRACKED]
    # clips[3] is still with the other worker: it may show someone else, so clips[4] is sent
    assert rig.work(clips[4]) == [RECOGNISED]


def test_the_reference_must_be_recorded_before_the_clip_and_less_than_recheck_s_before_it() -> None:
    t = 1_790_000_000.0
    reference = Vote(clip_id(t, 10), "k", 10, t, "Eileen_Collins", 0.97, BOX)
    view = VisitView("v1", (reference,), t, t, Decision(name="Eileen_Collins", agreeing=2), (), False, "", 0)
    answered: set[int] = set()
    skip = TrackingSkip(TrackingPolicy(recheck_s=2.0), lambda at: [view], lambda visit: True,
                        lambda a, b: all(n in answered for n in range(a + 1, b)))
    skip.remember(reference.clip, t, frame(), [convert(FACE, Face)], 0.97, "m1")

    assert skip.candidate(clip_id(t + 0.5, 11), t + 0.5) == reference.clip
    assert skip.candidate(clip_id(t - 0.5, 9), t - 0.5) is None  # a clip from before its reference (out of order)
    assert skip.candidate(clip_id(t + 2.0, 14), t + 2.0) is None  # the heartbeat
    assert skip.candidate(clip_id(t + 1.0, 12), t + 1.0) is None  # clip 11 is still out
    answered.add(11)
    assert skip.candidate(clip_id(t + 1.0, 12), t + 1.0) == reference.clip
    assert skip.candidate("not-a-device-clip", t + 0.5) is None
    other = VisitView("v2", (Vote(clip_id(t, 10) + "x", "k", 10, t, "unknown", 0.6, Box(0, 0, 60, 60)),), t, t,
                      Decision(name="unknown", agreeing=3), (), False, "", 0)
    two = TrackingSkip(TrackingPolicy(), lambda at: [view, other], lambda visit: True, lambda a, b: True)
    two.remember(reference.clip, t, frame(), [convert(FACE, Face)], 0.97, "m1")
    assert two.candidate(clip_id(t + 0.5, 11), t + 0.5) is None  # the visits' last answers are different clips


SECOND = {**FACE, "name": "unknown", "confidence": 0.6, "door": False, "descriptor": "CAkKCwwNDg8=", "details": {},
          "box": {"x1": 20.0, "y1": 300.0, "x2": 110.0, "y2": 390.0}, "sighting_id": "s-second"}


def test_two_people_seen_together_are_tracked_once_both_visits_are_decided_and_done(tmp_path: Path) -> None:
    # Each person is a visit of their own, but both faces come from one answered clip: the same reference.
    rig = Rig(tmp_path)
    rig.worker.recognizer = FakeRecognizer(faces=[FACE, SECOND])
    clips = rig.clips(5, frame(second=OTHER))
    statuses = rig.work(*clips)

    # 0-1 decide the known face, 0-2 the stranger ("unknown" needs 3 clips): only then are both done.
    assert statuses == [RECOGNISED, RECOGNISED, RECOGNISED, TRACKED, TRACKED]
    assert len(rig.tracker.open_at(rig.t0 + 2.0)) == 2
    tracked = rig.recognition(clips[4])
    assert sorted(tracked.names) == ["Eileen_Collins", "unknown"] and tracked.tracked_from == clips[2]
    assert rig.work(rig.record(frame(second=None))) == [RECOGNISED]  # one of them left: the API says who is there


def test_two_visits_whose_latest_answers_are_different_clips_are_not_tracked() -> None:
    t = 1_790_000_000.0
    mine = Vote(clip_id(t, 10), "k", 10, t, "Eileen_Collins", 0.97, BOX)
    theirs = Vote(clip_id(t - 0.5, 9), "k", 9, t - 0.5, "unknown", 0.6, Box(20, 300, 110, 390))
    views = [VisitView(f"v{n}", (vote,), vote.at, vote.at, Decision(name=vote.name, agreeing=3), (), False, "", 0)
             for n, vote in enumerate((mine, theirs))]
    skip = TrackingSkip(TrackingPolicy(), lambda at: views, lambda visit: True, lambda a, b: True)
    skip.remember(mine.clip, t, frame(second=OTHER), [convert(FACE, Face), convert(SECOND, Face)], 0.97, "m1")
    assert skip.candidate(clip_id(t + 0.5, 11), t + 0.5) is None
    views[1] = VisitView("v1", (Vote(mine.clip, "k", 10, t, "unknown", 0.6, Box(20, 300, 110, 390)),), t, t,
                         Decision(name="unknown", agreeing=3), (), False, "", 0)
    assert skip.candidate(clip_id(t + 0.5, 11), t + 0.5) == mine.clip  # one clip, two faces: one reference
