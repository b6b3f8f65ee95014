"""What the device knows about one clip, kept in its spool folder as `state.json`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pi_app.recognize_client import Recognition

# Recognition statuses: PENDING until one of the final ones below.
PENDING = "pending"
RECOGNISED = "recognised"  # at least one enrolled person
UNKNOWN = "unknown"  # faces, none of them enrolled
NO_FACE = "no_face"
REFUSED = "refused"  # the API answered 4xx: final, never retried
SKIPPED_STALE = "skipped_stale"  # recognition fell behind: the clip was too old to be worth it
# Upload statuses.
UPLOADED = "uploaded"

UNKNOWN_NAME = "unknown"
STATE_VERSION = 1


def face_summary(face: dict[str, Any]) -> dict[str, Any]:
    """What the device keeps of one face in the API's answer: name, confidence and the person's details
    (from DynamoDB `people`, e.g. allow_entry); boxes and distances are not needed after the answer."""
    details = face.get("details")
    return {"name": str(face.get("name", UNKNOWN_NAME)), "confidence": face.get("confidence"),
            "details": details if isinstance(details, dict) else {}}


@dataclass
class RecognitionRecord:
    """The recognition of a clip's chosen frame: its outcome, or how often it has been tried."""

    status: str = PENDING
    attempts: int = 0
    names: list[str] = field(default_factory=list)
    confidence: float | None = None
    model_version: str = ""
    latency_ms: float | None = None
    error: str = ""
    faces: list[dict[str, Any]] = field(default_factory=list)  # [{name, confidence, details}], see face_summary

    @property
    def final(self) -> bool:
        """True once nothing more will be tried."""
        return self.status != PENDING

    def record_answer(self, answer: Recognition) -> None:
        """Store the API's answer and classify it as recognised, unknown or no face."""
        self.names = answer.names
        self.faces = [face_summary(face) for face in answer.faces]
        confidences = [float(f["confidence"]) for f in answer.faces if isinstance(f.get("confidence"), (int, float))]
        self.confidence = max(confidences) if confidences else None
        self.model_version = answer.model_version
        self.latency_ms = round(answer.latency_ms, 1)
        self.error = ""
        if not self.names:
            self.status = NO_FACE
        elif any(name != UNKNOWN_NAME for name in self.names):
            self.status = RECOGNISED
        else:
            self.status = UNKNOWN


@dataclass
class UploadRecord:
    """The upload of the clip to S3."""

    status: str = PENDING
    attempts: int = 0
    error: str = ""

    @property
    def final(self) -> bool:
        """True once the clip is in the bucket."""
        return self.status == UPLOADED


@dataclass
class ClipState:
    """One clip: where it goes, how it was recorded, and how far its recognition and upload have got."""

    clip: str
    device_id: str
    key: str
    started_at: float  # wall time (epoch seconds) of the first frame
    recorded_at: float  # wall time the clip was complete; stale is measured from here
    frames: int
    duration_s: float
    fourcc: str
    frame_index: int  # which frame of the clip frame.jpg is
    frame_sharpness: float
    recognition: RecognitionRecord = field(default_factory=RecognitionRecord)
    upload: UploadRecord = field(default_factory=UploadRecord)
    # Where the clip starts in the camera's stream (seconds from its first frame): lines a
    # recorded video's clips up with its manifest.
    stream_offset_s: float = 0.0
    version: int = STATE_VERSION

    @property
    def finished(self) -> bool:
        """True when the clip needs no more work."""
        return self.recognition.final and self.upload.final

    def to_json(self) -> dict[str, Any]:
        """A plain dict for `state.json`."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClipState:
        """The inverse of `to_json`."""
        data = dict(data)
        data["recognition"] = RecognitionRecord(**data.get("recognition", {}))
        data["upload"] = UploadRecord(**data.get("upload", {}))
        return cls(**data)
