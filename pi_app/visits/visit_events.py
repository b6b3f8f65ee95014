"""Visit changes as device events (`visit_started`, `visit_decided`, `visit_ended`: the contract's VisitEvent types).

Every one carries the visit id, its device-time bounds (first and last clip with the face, recording
time), its clips and keys, the decision with its votes, and the evidence: one entry per clip (name,
confidence, box, sighting_id when the API gave one).
"""
from __future__ import annotations

from typing import TypeVar

import msgspec

from facegate_contract.device_events import VisitDecided, VisitEnded, VisitEvent, VisitStarted
from pi_app.runtime.events import utc_iso
from pi_app.visits.tracker import DECIDED, ENDED, STARTED, VisitChange, VisitView

V = TypeVar("V", bound=VisitEvent)


def visit_event(change: VisitChange) -> VisitEvent | None:
    """The event for a change; None for new evidence that changed nothing worth an event."""
    visit = change.visit
    if change.kind == STARTED:
        return visit_fields(VisitStarted, visit)
    if change.kind == DECIDED:
        return msgspec.structs.replace(visit_fields(VisitDecided, visit), previous=change.previous)
    if change.kind == ENDED:
        return msgspec.structs.replace(visit_fields(VisitEnded, visit), reason=visit.end_reason)
    return None


def visit_fields(kind: type[V], visit: VisitView) -> V:
    """A `kind` of visit event with what every visit event says about the visit."""
    clips = sorted({v.clip: v.key for v in visit.votes}.items())
    decision = visit.decision
    return kind(
        visit_id=visit.id,
        first_at=visit.first_at, last_at=visit.last_at,
        start=utc_iso(visit.first_at), end=utc_iso(visit.last_at),
        clips=[clip for clip, _ in clips], keys=[key for _, key in clips],
        decision=decision.name, share=round(decision.share, 3),
        confidence=None if decision.confidence is None else round(decision.confidence, 4),
        agreeing=decision.agreeing, votes={k: round(v, 3) for k, v in decision.votes.items()},
        label_clips=dict(decision.clips), conflict=list(decision.conflict),
        conflicts=list(visit.conflicts),  # every enrolled name ever in conflict during the visit
        ended=visit.ended,
        evidence=[vote.to_evidence() for vote in visit.votes],
        evidence_dropped=visit.dropped,
    )
