"""Not recognising a clip of a decided visit while the same face(s) are still there: the tracking skip.

Recognition requests are most of what a device-day costs. Once a visit is decided (a name or "unknown"), its rule
has done all it will (the alert sent, the door opened, asked, or not to be opened for that person) and there is no
conflict, another answer for the same person standing there changes nothing. So a clip is not sent when:
- every open visit its recording time reaches is decided, without a conflict (now or ever), settled (no clip
  between its faces still unanswered) and done with by the actions (`done_with`);
- those visits' latest recognised clip (not a tracked one) is one and the same clip, the reference, recorded
  *before* this clip and less than `recheck_s` before it (a heartbeat: a real answer at least that often), and
  every clip between the two is answered already (one still with the other worker may show someone else: a
  tracked copy of the old face after it would stand in the way of the split);
- every face of the reference's answer is in one of those visits, and the pixels say the same faces are still
  there and nothing else moves (pi_app.visits.same_face).
Its recognition is then final as `tracked`: the reference's faces (names, confidence, descriptors), boxes moved to
where they were found, never door-grade. Anything else, or a visit ended or split meanwhile, is recognised as usual:
every condition is checked against the tracker as it stands when the clip is worked on, and the reference is only
ever a clip the tracker has already placed, so answers arriving out of order cannot make a later clip a reference
for an earlier one.

BIOMETRIC. References (a small grey frame with the face, the answer's descriptors) are kept in memory only, a few
at a time, never on disk or in a log line.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec
import numpy as np

from facegate_contract.wire import Face
from pi_app.recording.clip_names import clip_seq
from pi_app.visits.evidence import Box, Vote
from pi_app.visits.same_face import MATCH_THRESHOLD, FaceReference, reference_of, same_faces
from pi_app.visits.tracker import VisitView

log = logging.getLogger(__name__)

KEPT_REFERENCES = 16  # recognised clips remembered: the latest of each open visit is among them (two workers)


@dataclass(frozen=True)
class TrackingPolicy:
    """Whether clips of a decided visit showing the same face(s) are left unsent, and how often one is sent all
    the same."""

    enabled: bool = True
    recheck_s: float = 2.0  # a clip this long after the visit's last recognised one is sent whatever it shows
    threshold: float = MATCH_THRESHOLD  # face correlation (pi_app.visits.same_face)


@dataclass(frozen=True)
class TrackedAnswer:
    """What a tracked clip is recorded as: the reference's answer with the boxes where the faces were found."""

    tracked_from: str
    faces: list[Face]  # door False, no descriptor, no sighting
    descriptors: list[bytes | None]  # the reference's, per face: the visit tracker compares identities with them
    confidence: float | None
    model_version: str


@dataclass(frozen=True)
class _Reference:
    clip: str
    recorded_at: float
    faces: tuple[Face, ...]  # the answer's, descriptors left out
    descriptors: tuple[bytes | None, ...]
    confidence: float | None
    model_version: str
    pixels: FaceReference


class TrackingSkip:
    """Decides, per clip, whether it is tracked instead of recognised; thread-safe (the workers are threads).

    `open_visits(at)`: the open visits a clip recorded at `at` could be part of (VisitTracker.open_at);
    `done_with(visit)`: the actions need nothing more of the visit (ActionSink.done_with); `answered_between(a, b)`:
    every clip numbered between a and b is answered (VisitTracker.answered_between)."""

    def __init__(self, policy: TrackingPolicy, open_visits: Callable[[float], list[VisitView]],
                 done_with: Callable[[VisitView], bool], answered_between: Callable[[int, int], bool]) -> None:
        self.policy = policy
        self.open_visits = open_visits
        self.done_with = done_with
        self.answered_between = answered_between
        self._references: OrderedDict[str, _Reference] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, clip: str, recorded_at: float, rgb: np.ndarray, faces: Sequence[Face],
                 confidence: float | None, model_version: str) -> None:
        """Keep a recognised clip's frame (the one sent, `rgb`) and answer as a possible reference."""
        if not self.policy.enabled or not faces:
            return
        boxes = tuple(Box.of(face.box) for face in faces)
        reference = _Reference(clip, recorded_at, tuple(msgspec.structs.replace(f, descriptor=None) for f in faces),
                               tuple(face.descriptor for face in faces), confidence, model_version,
                               reference_of(rgb, boxes))
        with self._lock:
            self._references[clip] = reference
            while len(self._references) > KEPT_REFERENCES:
                self._references.popitem(last=False)

    def candidate(self, clip: str, recorded_at: float) -> str | None:
        """The reference clip `clip` (recorded at `recorded_at`) would be checked against, when everything but the
        pixels allows tracking it (cheap: asked before the frame is decoded); None: recognise it."""
        if not self.policy.enabled:
            return None
        try:
            seq = clip_seq(clip)
        except (IndexError, ValueError):
            return None  # not a device clip: nothing tells which clips lie between it and a reference
        visits = self.open_visits(recorded_at)
        if not visits or not all(self._finished(visit) for visit in visits):
            return None
        latest = [_latest_recognised(visit) for visit in visits]
        # Compared by clip: people at the door together are different faces (votes) of one answered clip.
        if None in latest or len({vote.clip for vote in latest if vote is not None}) != 1:
            return None  # the visits' last answers are different clips: the faces were not seen together
        vote = latest[0]
        assert vote is not None
        if not vote.at < recorded_at < vote.at + self.policy.recheck_s:
            return None  # only a reference recorded before the clip, and a real answer every recheck_s
        if vote.seq < 0 or not vote.seq < seq or not self.answered_between(vote.seq, seq):
            return None  # a clip between the two is still out: it may show someone else
        with self._lock:
            reference = self._references.get(vote.clip)
        if reference is None or len(reference.faces) != len(visits):
            return None  # unknown here (answered before a restart) or a face of it in no open visit
        return vote.clip

    def check(self, clip: str, recorded_at: float, rgb: np.ndarray) -> TrackedAnswer | None:
        """The tracked answer for `clip` (recorded at `recorded_at`, chosen frame `rgb`), or None to recognise it."""
        reference_clip = self.candidate(clip, recorded_at)
        if reference_clip is None:
            return None
        with self._lock:
            reference = self._references.get(reference_clip)
        if reference is None:
            return None
        result = same_faces(reference.pixels, rgb, self.policy.threshold)
        log.debug("same-face check", extra={"clip": clip, "reference": reference_clip, "same": result.same,
                                            "scores": list(result.scores), "motion": result.motion,
                                            "reason": result.reason})
        if not result.same:
            return None
        # Never door-grade; no sighting of its own (the API saw only the reference: its sighting is the reference's).
        faces = [msgspec.structs.replace(face, box=box.to_wire(), door=False, sighting_id=None)
                 for face, box in zip(reference.faces, result.boxes)]
        return TrackedAnswer(reference_clip, faces, list(reference.descriptors), reference.confidence,
                             reference.model_version)

    def _finished(self, visit: VisitView) -> bool:
        """Decided, never in conflict, settled, and nothing left for the actions to do."""
        return (visit.decision.decided and not visit.decision.conflict and not visit.conflicts and visit.settled
                and not visit.ended and self.done_with(visit))


def _latest_recognised(visit: VisitView) -> Vote | None:
    """The visit's latest face from a clip the API answered (tracked ones are not references)."""
    real = [vote for vote in visit.votes if not vote.tracked_from]
    return max(real, key=lambda v: (v.at, v.clip)) if real else None
