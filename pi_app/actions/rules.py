"""From a visit's decision (or a clip without a face) to what should happen: which rule applies, and the
pulses and alert of its first firing. Pure functions: no pins, no network, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass

from pi_app.actions.config import KNOWN, UNKNOWN, Pulse, Rule
from pi_app.recording.clip_state import UNKNOWN_NAME
from pi_app.visits.decision import Decision


@dataclass(frozen=True)
class Plan:
    """What one firing of a rule does."""

    pulses: tuple[Pulse, ...]
    opens_door: bool
    alert: bool


def rule_for(decision: Decision) -> str | None:
    """KNOWN for a visit decided as an enrolled person, UNKNOWN for a stranger, None while undecided."""
    if decision.enrolled:
        return KNOWN
    return UNKNOWN if decision.name == UNKNOWN_NAME else None


def plan(rule: Rule, *, signals: bool, alert: bool, opens_door: bool) -> Plan:
    """The pulses (the rule's signals when `signals`, the door when `opens_door`) and whether to alert."""
    pulses = (rule.signals if signals else ()) + ((rule.door,) if opens_door and rule.door else ())
    return Plan(pulses, opens_door and rule.door is not None, alert and rule.alert)
