"""From a `recognition` event to what should happen: who was seen (sightings) and, for a new visit, which
pulses to run and whether to alert. Pure functions: no pins, no network, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pi_app.actions.config import KNOWN, NO_FACE, UNKNOWN, Pulse, Rule
from pi_app.clip_state import NO_FACE as STATUS_NO_FACE
from pi_app.clip_state import RECOGNISED, UNKNOWN_NAME
from pi_app.clip_state import UNKNOWN as STATUS_UNKNOWN


@dataclass(frozen=True)
class Sighting:
    """One subject in one recognised frame: a named person, "unknown" (every stranger in it), or "no_face"."""

    rule: str  # known | unknown | no_face
    subject: str  # the person's label, "unknown" or "no_face": the key of the cool-down
    confidence: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """What one new visit does."""

    pulses: tuple[Pulse, ...]
    opens_door: bool
    alert: bool


def sightings(event: dict[str, Any]) -> list[Sighting]:
    """The subjects of a recognition event; none for refused or stale clips (nothing is known about them).

    Each known person is a sighting of their own (their own cool-down, their own door decision); all
    the strangers in a frame are one "unknown" sighting with the highest confidence.
    """
    status = event.get("status")
    if status == STATUS_NO_FACE:
        return [Sighting(NO_FACE, NO_FACE)]
    if status not in (RECOGNISED, STATUS_UNKNOWN):
        return []
    people: dict[str, Sighting] = {}
    faces = event.get("faces") or [{"name": name} for name in event.get("names") or []]  # events without faces
    for face in faces:
        name = str(face.get("name") or UNKNOWN_NAME)
        confidence = face.get("confidence")
        best = people.get(name)
        if best is None or (confidence or 0) > (best.confidence or 0):
            details = face.get("details") if isinstance(face.get("details"), dict) else {}
            people[name] = Sighting(UNKNOWN if name == UNKNOWN_NAME else KNOWN, name, confidence, details)
    return list(people.values())


def may_enter(rule: Rule, sighting: Sighting) -> bool:
    """True only for a known person whose record says, as a JSON true, that they may enter."""
    return rule.name == KNOWN and sighting.rule == KNOWN and sighting.details.get(rule.entry_detail) is True


def plan_visit(rule: Rule, sighting: Sighting, fresh: bool) -> Plan:
    """The pulses and alert of a new visit; pins only when the clip is `fresh` (a backlog must not open the door)."""
    opens_door = fresh and rule.door is not None and may_enter(rule, sighting)
    pulses = (rule.signals if fresh else ()) + ((rule.door,) if opens_door and rule.door else ())
    return Plan(pulses, opens_door, rule.alert)
