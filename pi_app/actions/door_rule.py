"""When the door relay may open for a visit: the one rule, explicit and pure.

Open only for a visit decided as an enrolled person whose record allows entry (the entry detail is JSON
`true`), confirmed by at least `door_min_clips` agreeing *door-grade* clips in the decision window (the
recognizer said `door`: the match passed that person's calibrated door threshold, stricter than the one
that names, and its confidence is at least `door_min_confidence`), with no other enrolled name in that
window, and with the newest of those clips recorded at most `max_age_s` ago (a backlog never opens the
door). The window is of answered clips only: a tracked clip (not sent) never counts. Never for "unknown", "undecided" or a conflict, and never on names alone: a name is enough to
greet someone, not to let them in. The caller makes sure it opens at most once per visit.
"""
from __future__ import annotations

from dataclasses import dataclass

from pi_app.actions.config import KNOWN, Rule
from collections.abc import Sequence

from pi_app.visits.decision import DecisionPolicy, window
from pi_app.visits.evidence import Vote
from pi_app.visits.tracker import VisitView

OPEN = "open"
NOT_ALLOWED = "not_allowed"  # the person's record does not allow entry: more clips will not change that


@dataclass(frozen=True)
class DoorVerdict:
    """Whether the door opens, and why (or why not): open | no_door | undecided | unknown | conflict |
    too_few_clips | not_door_grade | not_allowed | stale."""

    opens: bool
    reason: str


def door_verdict(rule: Rule, visit: VisitView, policy: DecisionPolicy, now: float) -> DoorVerdict:
    """The door decision for `visit` at clock time `now`, under the known-person `rule`."""
    decision = visit.decision
    if rule.name != KNOWN or rule.door is None:
        return DoorVerdict(False, "no_door")
    if not decision.decided:
        return DoorVerdict(False, "undecided")
    if not decision.enrolled:
        return DoorVerdict(False, "unknown")
    if decision.conflict:
        return DoorVerdict(False, "conflict")
    # Only answered clips: a tracked one (never sent, pi_app.visits.tracking_skip) neither counts nor pushes a
    # door-grade answer out of the window.
    answered = [v for v in visit.votes if not v.tracked_from]
    agreeing = [v for v in window(answered, policy) if v.name == decision.name]
    if len(agreeing) < rule.door_min_clips:
        return DoorVerdict(False, "too_few_clips")
    grade = door_grade(agreeing, rule.door_min_confidence)
    if len(grade) < rule.door_min_clips:
        return DoorVerdict(False, "not_door_grade")
    newest = grade[-1]
    if newest.details.get(rule.entry_detail) is not True:
        return DoorVerdict(False, NOT_ALLOWED)
    if now - newest.at > rule.max_age_s:
        return DoorVerdict(False, "stale")
    return DoorVerdict(True, OPEN)


def refused_entry(rule: Rule, visit: VisitView, policy: DecisionPolicy) -> bool:
    """True when the door stays shut for `visit` whatever more clips of the same person say: decided as an enrolled
    person (no conflict) whose record, in every answered clip of that name in the window, is there and does not allow
    entry. Door grade does not matter here (it decides whether a door opens, and this one stays shut for that name);
    a lookup that found no record is not a refusal. Only another name decided on real answers could open it."""
    decision = visit.decision
    if rule.name != KNOWN or rule.door is None or not decision.enrolled or decision.conflict:
        return False
    named = [v for v in window([v for v in visit.votes if not v.tracked_from], policy) if v.name == decision.name]
    return bool(named) and all(v.details and v.details.get(rule.entry_detail) is not True for v in named)


def door_grade(votes: Sequence[Vote], min_confidence: float) -> list[Vote]:
    """The votes that count for the door: door-grade by the recognizer and at least `min_confidence` sure (a
    vote without a confidence never counts)."""
    return [v for v in votes if v.door and v.confidence is not None and v.confidence >= min_confidence]
