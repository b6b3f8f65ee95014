"""An alert: who was seen at the door, when, on which clip; stored in the outbox and POSTed as JSON.

The clip link is signed at send time, not when the alert is made: the URL's lifetime then starts when
the receiver gets it, and no signed URL (a bearer credential for the clip) is ever written to disk.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pi_app.runtime.events import utc_iso
from pi_app.runtime.stamped_ids import stamped_id

ALERT_VERSION = 1


@dataclass
class Alert:
    """One alert and its delivery history."""

    id: str
    rule: str  # known | unknown | no_face | door_request
    name: str  # the person's label, or "unknown" / "no_face"
    confidence: float | None
    device_id: str
    seen_at: float  # epoch seconds the clip was recorded
    created_at: float  # epoch seconds the alert was made (expiry counts from here)
    clip: str
    clip_key: str
    details: dict[str, Any] = field(default_factory=dict)
    visit_id: str = ""  # the visit the alert is about ("" for no_face, and in outboxes from before visits)
    door_request_id: str = ""  # confirm mode: the door request waiting for an operator
    attempts: int = 0
    last_error: str = ""
    version: int = ALERT_VERSION

    def payload(self, clip_url: str | None, clip_url_expires_in_s: int, clip_pending: bool,
                console_url: str = "") -> dict[str, Any]:
        """The JSON body of the webhook POST (a door request's alert links to its console page)."""
        door: dict[str, Any] = {}
        if self.door_request_id:
            door = {"door_request_id": self.door_request_id,
                    "door_request_url": f"{console_url}/door-requests/{self.door_request_id}" if console_url else None}
        return {
            "alert_id": self.id,  # the same on every retry: receivers can drop duplicates
            "rule": self.rule,
            "name": self.name,
            "confidence": self.confidence,
            "device_id": self.device_id,
            "time": utc_iso(self.seen_at),
            "clip": self.clip,
            "clip_key": self.clip_key,
            "clip_url": clip_url,
            "clip_url_expires_in_s": clip_url_expires_in_s,
            "clip_pending": clip_pending,  # true: the clip was not in S3 yet; the URL works once it lands
            "details": self.details,
            "visit_id": self.visit_id or None,
            "attempt": self.attempts + 1,
            **door,
        }

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the outbox file."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alert:
        """The inverse of `to_json`."""
        return cls(**data)


def new_alert_id(now: float) -> str:
    """A unique id that sorts by creation time (the outbox sends oldest first)."""
    return stamped_id(now)
