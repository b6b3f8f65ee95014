"""Which visit each face of a clip belongs to: by recording time, by where the face is in the frame, and by
what it looks like.

A visit is one person's continuous presence. A face joins the visit whose face was last seen close in time
(within `end_after_s`) and close in the frame (its box overlaps, or moved at most `max_shift` face sizes), so two
people at the door at once are two visits; among those, the one whose face it resembles (the recognizer's face
descriptor, pi_app.visits.appearance) wins. One odd face (turned away, misnamed) joins the visit at its place and
is outvoted there. When the latest `split_clips` faces of a visit all differ from the faces before them, and at
least as many of the faces before were one face, someone else has stepped into the same spot without a gap (a
tailgater): the visit is split there, and each part is decided on its own. Without descriptors (an older
recognizer, a clip resumed after a restart) faces differ only when they are named as different enrolled people.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pi_app.visits.appearance import differs, resemblance
from pi_app.visits.decision import UNDECIDED, Decision, DecisionPolicy, decide
from pi_app.visits.evidence import Box, Vote

MAX_VOTES = 120  # kept per visit (a minute of clips); older ones only cost memory and event size
_OVERLAPPING = 0.1  # an IoU above this is the same place, whatever the shift
APPEARANCE_MEMORY = 6  # a visit's latest faces a new face is compared with (a face changes slowly as it turns)
_SPLIT_SEARCH = 16  # the latest votes where a change of person is looked for (answers come at most this late)


@dataclass(frozen=True)
class VisitConfig:
    """How clips make visits and how visits are decided."""

    end_after_s: float = 2.0  # a visit ends after this long (clip recording time) without its face
    max_shift: float = 2.5  # face sizes a face may move between two clips of the same visit
    decision: DecisionPolicy = field(default_factory=DecisionPolicy)
    same_face: float = 0.45  # descriptor cosine below which two faces are different people (docs/visits-identity.md)
    split_clips: int = 3  # consecutive faces unlike the visit's that make it two visits (one or two are outvoted)


@dataclass
class Visit:
    """One visit's evidence and state (mutable; owned by the tracker)."""

    id: str
    votes: list[Vote] = field(default_factory=list)  # by recording time, the latest MAX_VOTES
    first_at: float = float("inf")  # recording time of the first and last clip with the face (of all, kept or not)
    last_at: float = float("-inf")
    first_seq: int = -1  # the first and last clips' sequence numbers
    last_seq: int = -1
    decision: Decision = field(default_factory=Decision)
    conflicts: set[str] = field(default_factory=set)  # every enrolled name that was ever part of a conflict
    ended: bool = False
    end_reason: str = ""
    dropped: int = 0  # votes beyond MAX_VOTES, oldest first
    settled: str = UNDECIDED  # the decision when the oldest kept vote came (what the dropped votes decided)

    def add(self, vote: Vote, policy: DecisionPolicy) -> None:
        """Add a vote (in recording-time order, wherever it falls) and decide again."""
        if vote.at < self.first_at:
            self.first_at, self.first_seq = vote.at, vote.seq
        if vote.at >= self.last_at:
            self.last_at, self.last_seq = vote.at, vote.seq
        self.votes.append(vote)
        self.votes.sort(key=lambda v: (v.at, v.clip))
        excess = len(self.votes) - MAX_VOTES
        if excess > 0:
            self.settled = decide(self.votes[:excess], policy, self.settled).name
            self.dropped += excess
            del self.votes[:excess]
        self.decision = decide(self.votes, policy, self.settled)
        if self.decision.conflict:  # the names that disagreed: the rivals and the decided one
            self.conflicts.update(self.decision.conflict + ((self.decision.name,) if self.decision.enrolled else ()))

    def reaches(self, at: float, gap_s: float) -> bool:
        """True when a face recorded at `at` is close enough in time to be part of this visit."""
        return self.first_at - gap_s <= at <= self.last_at + gap_s

    def box_near(self, at: float) -> Box | None:
        """The box of the vote closest in time to `at` (the face's place then)."""
        boxed = [v for v in self.votes if v.box is not None]
        return min(boxed, key=lambda v: abs(v.at - at)).box if boxed else None

    def has_clip(self, clip: str) -> bool:
        return any(v.clip == clip for v in self.votes)

    def faces_near(self, at: float) -> list[Vote]:
        """The visit's APPEARANCE_MEMORY faces closest in time to `at` (what the person looked like then)."""
        return sorted(self.votes, key=lambda v: abs(v.at - at))[:APPEARANCE_MEMORY]

    def split_off(self, index: int, new_id: str, policy: DecisionPolicy) -> Visit:
        """Move the votes from `index` (by recording time) to a new visit, and decide both again."""
        kept, moved = self.votes[:index], self.votes[index:]
        other = Visit(new_id)
        for vote in moved:
            other.add(vote, policy)
        first = (self.first_at, self.first_seq) if self.dropped else None  # dropped votes still began the visit
        self.votes, self.conflicts, self.decision = [], set(), Decision()
        self.first_at, self.last_at, self.first_seq, self.last_seq = float("inf"), float("-inf"), -1, -1
        for vote in kept:  # replayed: the conflicts the moved votes caused go with them
            self.add(vote, policy)
        if first is not None:
            self.first_at, self.first_seq = first
        return other


def split_point(visit: Visit, config: VisitConfig) -> int | None:
    """Where another person took over the visit: the earliest index (by recording time) from which at least
    `split_clips` faces, and every face after, differ from the faces just before and are one face among
    themselves, while at least `split_clips` of the faces just before are one face too; None while there is no
    such point (one or two odd faces, the person came back, or the new faces are not one face either).

    Both sides need the same evidence: one or two faces are never a person of their own to differ from, wherever
    they fall. A visit's first face can be its odd one (turned away, blurred while stepping in, misnamed), and
    answers come newest first when recognition falls behind (pi_app.work_queue): the clip a person turned away in
    can be the first of their visit to be answered, with their frontal faces arriving after it."""
    votes = visit.votes
    for index in range(max(config.split_clips, len(votes) - _SPLIT_SEARCH), len(votes) - config.split_clips + 1):
        before, after = votes[max(0, index - APPEARANCE_MEMORY):index], votes[index:]
        if (all(differs(vote, before, config.same_face) for vote in after)
                and len(_alike(after, config)) == len(after) and len(_alike(before, config)) >= config.split_clips):
            return index
    return None


def _alike(votes: list[Vote], config: VisitConfig) -> list[Vote]:
    """The faces of `votes` that look like another of them (a blurred, far face's descriptors scatter: that is
    noise, not a person); without descriptors, every one."""
    return [vote for vote in votes
            if (score := resemblance(vote, [v for v in votes if v is not vote])) is None or score >= config.same_face]


def distance(visit: Visit, vote: Vote, config: VisitConfig) -> float | None:
    """How far `vote` is from `visit` (lower is closer), None when it cannot belong to it."""
    if not visit.reaches(vote.at, config.end_after_s) or visit.has_clip(vote.clip):
        return None
    return _place_distance(visit, vote, config)


def near_in_place(visit: Visit, vote: Vote, config: VisitConfig) -> bool:
    """True when `vote`'s face is where `visit`'s was, whenever it was recorded."""
    return _place_distance(visit, vote, config) is not None


def reaching(vote: Vote, visits: Sequence[Visit], config: VisitConfig) -> bool:
    """True when some visit could take `vote` now."""
    return any(distance(visit, vote, config) is not None for visit in visits)


def _place_distance(visit: Visit, vote: Vote, config: VisitConfig) -> float | None:
    place = visit.box_near(vote.at)
    if place is None or vote.box is None:
        return config.max_shift  # no boxes to compare (an older API): time alone groups
    shift = place.shift(vote.box)
    if place.iou(vote.box) > _OVERLAPPING:
        return min(shift, config.max_shift)
    return shift if shift <= config.max_shift else None


def assign(votes: Sequence[Vote], visits: Sequence[Visit], config: VisitConfig) -> list[tuple[Vote, Visit | None]]:
    """Pair each face of one clip with the visit it continues (None: a new visit), closest pairs first; two
    faces of one clip never join the same visit."""
    pairs = []
    for i, vote in enumerate(votes):
        for j, visit in enumerate(visits):
            d = distance(visit, vote, config)
            if d is not None:
                faces = visit.faces_near(vote.at)
                unlike = differs(vote, faces, config.same_face)  # a face goes to the visit it resembles first
                same_name = visit.decision.name == vote.name or any(v.name == vote.name for v in visit.votes[-3:])
                pairs.append((unlike, d, -(resemblance(vote, faces) or 0.0), not same_name,
                              abs(vote.at - visit.last_at), i, j))
    chosen: dict[int, Visit | None] = {i: None for i in range(len(votes))}
    taken: set[int] = set()
    for *_, i, j in sorted(pairs):
        if chosen[i] is None and j not in taken:
            chosen[i] = visits[j]
            taken.add(j)
    return [(vote, chosen[i]) for i, vote in enumerate(votes)]
