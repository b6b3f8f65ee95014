"""When the door relay may open for a visit: the one rule, explicit and pure.

Open only for a visit decided as an enrolled person whose record allows entry (the entry detail is JSON
`true`), confirmed by at least `door_min_clips` agreeing clips in the decision window, with no other
enrolled name in that window, and with the newest of those clips recorded at most `max_age_s` ago (a
backlog never opens the door). Never for "unknown", "undecided" or a conflict. The caller makes sure
it opens at most once per visit.
"""
from __future__ import annotations

from dataclasses import dataclass

from pi_app.actions.config import KNOWN, Rule
from pi_app.visits.decision import DecisionPolicy, window
from pi_app.visits.tracker import VisitView

OPEN = "open"


@dataclass(frozen=True)
class DoorVerdict:
    """Whether the door opens, and why (or why not): open | no_door | undecided | unknown | conflict |
    too_few_clips | not_allowed | stale."""

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
    agreeing = [v for v in window(visit.votes, policy) if v.name == decision.name]
    if len(agreeing) < rule.door_min_clips:
        return DoorVerdict(False, "too_few_clips")
    newest = agreeing[-1]
    if newest.details.get(rule.entry_detail) is not True:
        return DoorVerdict(False, "not_allowed")
    if now - newest.at > rule.max_age_s:
        return DoorVerdict(False, "stale")
    return DoorVerdict(True, OPEN)
