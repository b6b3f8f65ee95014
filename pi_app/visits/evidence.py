"""The evidence visits are made of: each face of each recognised clip (a vote), read from `recognition` events."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from facegate_contract import wire
from facegate_contract.device_events import ClipRecognition
from pi_app.recording.clip_names import clip_seq
from pi_app.recording.clip_state import RECOGNISED, TRACKED, UNKNOWN, UNKNOWN_NAME

NEUTRAL_CONFIDENCE = 0.5  # the weight of a vote whose answer carried no confidence


@dataclass(frozen=True)
class Box:
    """A face's box in the recognised frame, in pixels."""

    x1: float
    y1: float
    x2: float
    y2: float

    @classmethod
    def of(cls, box: wire.Box) -> Box:
        """The answer's box (the contract checked it: finite, x2 > x1, y2 > y1)."""
        return cls(box.x1, box.y1, box.x2, box.y2)

    @property
    def size(self) -> float:
        """The longer side."""
        return max(self.x2 - self.x1, self.y2 - self.y1)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2

    def iou(self, other: Box) -> float:
        """Intersection over union."""
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        inter = max(0.0, w) * max(0.0, h)
        union = (self.x2 - self.x1) * (self.y2 - self.y1) + (other.x2 - other.x1) * (other.y2 - other.y1) - inter
        return inter / union if union > 0 else 0.0

    def shift(self, other: Box) -> float:
        """How far `other`'s centre is from this one's, in face sizes (the larger of the two boxes)."""
        (ax, ay), (bx, by) = self.centre, other.centre
        return math.hypot(ax - bx, ay - by) / max(self.size, other.size, 1.0)

    def to_wire(self) -> wire.Box:
        """The box as visit events and reports carry it."""
        return wire.Box(self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class Vote:
    """One face in one clip's recognised frame: who the API said it was, and where."""

    clip: str
    key: str
    seq: int  # the clip's sequence number: tells which clips between two others are still to come
    at: float  # when the clip was recorded (epoch seconds): visits are built on this, never on arrival order
    name: str  # a First_Last label or "unknown"
    confidence: float | None
    box: Box | None = None
    sighting_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict, compare=False)
    door: bool = False  # the recognizer called the match door-grade (its `door` field, JSON true); names never open
    # A tracked clip's face (not sent: the same face as this recognised clip, pi_app.visits.tracking_skip): it keeps
    # its visit going but is never door-grade (`door` False), never fresh evidence and never starts a visit.
    tracked_from: str = ""
    # Biometric (pi_app.visits.appearance): in memory only, never in to_json, an event or a log line.
    descriptor: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def weight(self) -> float:
        """What the vote counts for: its confidence."""
        return self.confidence if self.confidence is not None else NEUTRAL_CONFIDENCE

    @property
    def enrolled(self) -> bool:
        """True for a named person (not "unknown")."""
        return self.name != UNKNOWN_NAME

    def to_evidence(self) -> wire.EvidenceVote:
        """The vote as visit events and reports carry it (details stay out: they are the person's record, not
        evidence; the descriptor too: it is biometric)."""
        return wire.EvidenceVote(key=self.key, name=self.name, confidence=self.confidence,
                                 box=self.box.to_wire() if self.box else None, at=self.at,
                                 sighting_id=self.sighting_id, clip=self.clip)


@dataclass(frozen=True)
class ClipSeen:
    """One clip's final recognition event: when it was recorded and the faces in it (none for no face,
    refused, stale or still clips: they only say that time has passed there)."""

    clip: str
    seq: int
    at: float
    votes: tuple[Vote, ...]


def clip_seen(event: ClipRecognition) -> ClipSeen | None:
    """The clip a `recognition` event is about; None for one without a clip and time."""
    if not event.clip or event.recorded_at is None:
        return None
    clip, at = event.clip, event.recorded_at
    try:
        seq = clip_seq(clip)
    except (IndexError, ValueError):
        seq = -1  # not a device clip id: nothing is known about the clips around it
    votes: tuple[Vote, ...] = ()
    if event.status in (RECOGNISED, UNKNOWN):
        votes = tuple(_vote(face, clip, event.key, seq, at) for face in event.faces)
    elif event.status == TRACKED and event.tracked_from:
        votes = tuple(_vote(face, clip, event.key, seq, at, event.tracked_from) for face in event.faces)
    return ClipSeen(clip, seq, at, votes)


def _vote(face: wire.Face, clip: str, key: str, seq: int, at: float, tracked_from: str = "") -> Vote:
    # A tracked face is never door-grade, whatever the event says: only an answer of the recognizer is.
    return Vote(clip, key, seq, at, face.name, face.confidence, Box.of(face.box), face.sighting_id,
                dict(face.details), door=face.door and not tracked_from, tracked_from=tracked_from)
