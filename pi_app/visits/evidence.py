"""The evidence visits are made of: each face of each recognised clip (a vote), read from `recognition` events."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pi_app.clip_names import clip_seq
from pi_app.clip_state import RECOGNISED, UNKNOWN, UNKNOWN_NAME

NEUTRAL_CONFIDENCE = 0.5  # the weight of a vote whose answer carried no confidence


@dataclass(frozen=True)
class Box:
    """A face's box in the recognised frame, in pixels."""

    x1: float
    y1: float
    x2: float
    y2: float

    @classmethod
    def from_json(cls, value: Any) -> Box | None:
        """The API's `{x1, y1, x2, y2, ...}` (or `[x1, y1, x2, y2]`); None when absent or malformed."""
        if isinstance(value, dict):
            value = [value.get(k) for k in ("x1", "y1", "x2", "y2")]
        if not isinstance(value, (list, tuple)) or len(value) != 4:
            return None
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
            return None
        x1, y1, x2, y2 = (float(v) for v in value)
        return cls(x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None

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

    def to_json(self) -> dict[str, float]:
        return {"x1": self.x1, "y1": self.y1, "x2": self.x2, "y2": self.y2}


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

    def to_json(self) -> dict[str, Any]:
        """The vote as visit events report it (details stay out: they are the person's record, not evidence)."""
        data: dict[str, Any] = {"clip": self.clip, "key": self.key, "at": self.at, "name": self.name,
                                "confidence": self.confidence, "box": self.box.to_json() if self.box else None}
        if self.sighting_id:
            data["sighting_id"] = self.sighting_id
        return data


@dataclass(frozen=True)
class ClipSeen:
    """One clip's final recognition event: when it was recorded and the faces in it (none for no face,
    refused, stale or still clips: they only say that time has passed there)."""

    clip: str
    seq: int
    at: float
    votes: tuple[Vote, ...]


def clip_seen(event: dict[str, Any]) -> ClipSeen | None:
    """The clip a `recognition` event is about; None for other events or one without a clip and time."""
    if event.get("event") != "recognition" or not event.get("clip") or event.get("recorded_at") is None:
        return None
    clip, at = str(event["clip"]), float(event["recorded_at"])
    try:
        seq = clip_seq(clip)
    except (IndexError, ValueError):
        seq = -1  # not a device clip id: nothing is known about the clips around it
    votes: tuple[Vote, ...] = ()
    if event.get("status") in (RECOGNISED, UNKNOWN):
        votes = tuple(_vote(face, clip, str(event.get("key", "")), seq, at) for face in event.get("faces") or [])
    return ClipSeen(clip, seq, at, votes)


def _vote(face: dict[str, Any], clip: str, key: str, seq: int, at: float) -> Vote:
    raw = face.get("confidence")
    confidence = float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
    details = face.get("details")
    sighting = face.get("sighting_id")
    return Vote(clip, key, seq, at, str(face.get("name") or UNKNOWN_NAME), confidence,
                Box.from_json(face.get("box")), str(sighting) if sighting else None,
                details if isinstance(details, dict) else {}, door=face.get("door") is True)
