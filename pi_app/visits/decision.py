"""Who a visit is: confidence-weighted votes of its latest clips. A pure function of the evidence.

One wrong answer among several right ones must not name the visitor: a label is decided on a window
(the latest `window_clips` clips, by recording time) only when it has enough clips of its own *and*
most of the window's weight. A decision holds until another label is decided the same way, and a
person's name is replaced only by another name: a visitor turning away at the end (a few "unknown"
answers) stays who they were. Two different enrolled names in
the latest window are a conflict, whatever the decision: the door opens nothing while one lasts.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pi_app.recording.clip_state import UNKNOWN_NAME
from pi_app.visits.evidence import Vote

UNDECIDED = "undecided"


@dataclass(frozen=True)
class DecisionPolicy:
    """How much agreement names a visit."""

    window_clips: int = 4  # the latest clips that vote (2 s of 0.5 s clips)
    min_clips: int = 2  # clips a person's name needs in the window
    unknown_min_clips: int = 3  # ...and "unknown": a known face far away or turning often starts as unknown
    min_share: float = 0.6  # of the window's confidence-weighted votes


@dataclass(frozen=True)
class Decision:
    """A visit's running decision: a name, "unknown" or "undecided", with the votes behind it."""

    name: str = UNDECIDED
    share: float = 0.0  # the decided label's part of the window's weight (of the leader's, when undecided)
    confidence: float | None = None  # mean confidence of the decided label's clips in the window
    agreeing: int = 0  # clips in the window for the decided label
    votes: dict[str, float] = field(default_factory=dict)  # label -> summed confidence in the window
    clips: dict[str, int] = field(default_factory=dict)  # label -> clips in the window
    conflict: tuple[str, ...] = ()  # enrolled names in the window other than the decided one, when there are 2+

    @property
    def decided(self) -> bool:
        return self.name != UNDECIDED

    @property
    def enrolled(self) -> bool:
        """True when the decision is a named person."""
        return self.decided and self.name != UNKNOWN_NAME


def window(votes: Sequence[Vote], policy: DecisionPolicy) -> list[Vote]:
    """The votes of the latest `window_clips` clips, by recording time (arrival order does not matter)."""
    return _latest(sorted(votes, key=lambda v: (v.at, v.clip)), policy.window_clips)


def _latest(ordered: list[Vote], clips: int) -> list[Vote]:
    kept = set(list(dict.fromkeys(v.clip for v in ordered))[-clips:])
    return [v for v in ordered[-clips * 4:] if v.clip in kept]  # a clip holds one face of a visit; 4 is slack


def decide(votes: Sequence[Vote], policy: DecisionPolicy, before: str = UNDECIDED) -> Decision:
    """The running decision after `votes` (one visit's: one face per clip): the label last decided on a window
    as the clips came, in recording order (`before`: the decision when the first of them came); the votes,
    agreement and conflict are the latest window's."""
    ordered = sorted(votes, key=lambda v: (v.at, v.clip))
    name = before
    for end in range(1, len(ordered) + 1):
        decided = _decided(_Tally(_latest(ordered[:end], policy.window_clips)), policy)
        # "unknown" is the absence of a match, weaker than a match: it never replaces a person's name
        # (a visitor turning away or walking off comes back unknown), only another name does.
        if decided and not (decided == UNKNOWN_NAME and name not in (UNDECIDED, UNKNOWN_NAME)):
            name = decided
    tally = _Tally(_latest(ordered, policy.window_clips))
    if not tally.weights:
        return Decision()
    reported = name if name != UNDECIDED else tally.leader
    confidences = [v.confidence for v in tally.votes if v.name == name and v.confidence is not None]
    enrolled = sorted(n for n in tally.counts if n != UNKNOWN_NAME)
    return Decision(name=name, share=tally.share(reported),
                    confidence=sum(confidences) / len(confidences) if confidences else None,
                    agreeing=tally.counts.get(name, 0), votes=tally.weights, clips=tally.counts,
                    conflict=tuple(n for n in enrolled if n != name) if len(enrolled) > 1 else ())


class _Tally:
    """Confidence-weighted votes and clip counts per label, over one window."""

    def __init__(self, votes: list[Vote]) -> None:
        self.votes = votes
        self.weights: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        for vote in votes:
            self.weights[vote.name] = self.weights.get(vote.name, 0.0) + vote.weight
            self.counts[vote.name] = self.counts.get(vote.name, 0) + 1
        self.ranked = sorted(self.weights, key=lambda n: (-self.weights[n], -self.counts[n], n))
        self.leader = self.ranked[0] if self.ranked else UNDECIDED

    def share(self, name: str) -> float:
        total = sum(self.weights.values())
        return self.weights.get(name, 0.0) / total if total > 0 else 0.0


def _decided(tally: _Tally, policy: DecisionPolicy) -> str | None:
    """The label this window decides, if any: enough clips of its own, most of the weight, no tie."""
    if not tally.ranked:
        return None
    leader = tally.leader
    if len(tally.ranked) > 1 and tally.weights[tally.ranked[1]] == tally.weights[leader]:
        return None
    needed = policy.unknown_min_clips if leader == UNKNOWN_NAME else policy.min_clips
    return leader if tally.counts[leader] >= needed and tally.share(leader) >= policy.min_share else None
