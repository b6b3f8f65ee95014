"""Visit changes as device events (`visit_started`, `visit_decided`, `visit_ended`), flat JSON-able dicts.

Every one carries the visit id, its device-time bounds (first and last clip with the face, recording
time), its clips and keys, the decision with its votes, and the evidence: one entry per clip (name,
confidence, box, sighting_id when the API gave one).
"""
from __future__ import annotations

from typing import Any

from pi_app.events import Event, utc_iso
from pi_app.visits.tracker import DECIDED, ENDED, STARTED, VisitChange, VisitView

EVENT_NAMES = {STARTED: "visit_started", DECIDED: "visit_decided", ENDED: "visit_ended"}


def visit_event(change: VisitChange) -> Event | None:
    """The event for a change; None for new evidence that changed nothing worth an event."""
    name = EVENT_NAMES.get(change.kind)
    if name is None:
        return None
    event: Event = {"event": name, **visit_fields(change.visit)}
    if change.kind == DECIDED:
        event["previous"] = change.previous
    if change.kind == ENDED:
        event["reason"] = change.visit.end_reason
    return event


def visit_fields(visit: VisitView) -> dict[str, Any]:
    """What every visit event says about the visit."""
    clips = sorted({v.clip: v.key for v in visit.votes}.items())
    return {
        "visit_id": visit.id,
        "first_at": visit.first_at, "last_at": visit.last_at,
        "start": utc_iso(visit.first_at), "end": utc_iso(visit.last_at),
        "clips": [clip for clip, _ in clips], "keys": [key for _, key in clips],
        **visit.decision.to_json(),
        "conflicts": list(visit.conflicts),  # every enrolled name ever in conflict during the visit
        "ended": visit.ended,
        "evidence": [vote.to_json() for vote in visit.votes],
        **({"evidence_dropped": visit.dropped} if visit.dropped else {}),
    }
