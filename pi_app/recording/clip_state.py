"""What the device knows about one clip, kept in its spool folder as `state.json`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from facegate_contract import UNKNOWN as UNKNOWN_LABEL
from facegate_contract import clip_key
from facegate_contract.wire import Face, convert
from pi_app.recording.clip_names import clip_started_at
from pi_app.transport.recognize_client import Recognition

# Recognition statuses: PENDING until one of the final ones below.
PENDING = "pending"
RECOGNISED = "recognised"  # at least one enrolled person
UNKNOWN = "unknown"  # faces, none of them enrolled
NO_FACE = "no_face"
REFUSED = "refused"  # the API answered 4xx: final, never retried
SKIPPED_STALE = "skipped_stale"  # recognition fell behind: the clip was too old to be worth it
SKIPPED_STILL = "skipped_still"  # the motion gate: nothing moved and no visit was open (pi_app.recording.motion_gate)
SKIPPED_NO_FRAME = "skipped_no_frame"  # frame.jpg lost and not to be taken again from the clip: nothing to send
SKIPPED_RECOVERED = "skipped_recovered"  # state.json was unreadable: rebuilt from the folder, uploaded unrecognised
# Not sent: the same face(s) as the decided, acted-on visit's last recognised clip (pi_app.visits.tracking_skip);
# the answer is that clip's, its boxes moved to where the faces were found.
TRACKED = "tracked"
# Upload statuses.
UPLOADED = "uploaded"
NOT_UPLOADED = "not_uploaded"  # a still clip, with the motion gate set not to upload those: final too
WANTED = "wanted"  # brought back from `.kept/` for a visit's margin: to be uploaded whatever the policy (not final)
KEPT_LOCAL = "kept_local"  # an empty doorway under the `visits` upload policy: in the spool's `.kept/`, not in S3
# A visit's clip under the `visits` policy: it waits in the spool for its visit's bundle (one ZIP, one PUT:
# pi_app.runtime.visit_bundler) instead of going up alone (not final).
AWAITING_BUNDLE = "awaiting_bundle"
BUNDLED = "bundled"  # in S3 as a member of its visit's bundle (final)
ALONE = "alone"  # to be uploaded on its own whatever the policy: no bundle will take it any more (not final)

UNKNOWN_NAME = UNKNOWN_LABEL  # the contract's label for a face nobody enrolled matches
STATE_VERSION = 1


def face_summary(face: Face) -> Face:
    """What the device keeps of one face in the API's answer (in state.json and the `recognition` event): all of
    it but the descriptor, a face template that stays in memory (pi_app.visits.appearance)."""
    return msgspec.structs.replace(face, descriptor=None) if face.descriptor is not None else face


@dataclass
class RecognitionRecord:
    """The recognition of a clip's chosen frame: its outcome, or how often it has been tried."""

    status: str = PENDING
    attempts: int = 0
    names: list[str] = field(default_factory=list)
    confidence: float | None = None
    model_version: str = ""
    latency_ms: float | None = None
    server_ms: float | None = None  # the recognizer's own time for the frame (what Lambda bills), from the answer
    error: str = ""
    faces: list[Face] = field(default_factory=list)  # the answer's faces (face_summary)
    tracked_from: str = ""  # TRACKED: the recognised clip whose faces were found again in this one

    @property
    def final(self) -> bool:
        """True once nothing more will be tried."""
        return self.status != PENDING

    def record_answer(self, answer: Recognition) -> None:
        """Store the API's answer and classify it as recognised, unknown or no face."""
        self.names = answer.names
        self.faces = [face_summary(face) for face in answer.faces]
        self.confidence = max((face.confidence for face in answer.faces), default=None)
        self.model_version = answer.model_version
        self.latency_ms = round(answer.latency_ms, 1)
        self.server_ms = None if answer.server_ms is None else round(float(answer.server_ms), 1)
        self.error = ""
        if not self.names:
            self.status = NO_FACE
        elif any(name != UNKNOWN_NAME for name in self.names):
            self.status = RECOGNISED
        else:
            self.status = UNKNOWN

    def record_tracked(self, faces: list[Face], confidence: float | None, model_version: str, tracked_from: str) -> None:
        """Not sent: the reference clip `tracked_from`'s faces were found again (`faces`: its answer's, boxes moved,
        never door-grade)."""
        self.status, self.tracked_from, self.error = TRACKED, tracked_from, ""
        self.faces = [face_summary(face) for face in faces]
        self.names = [face.name for face in faces]
        self.confidence, self.model_version = confidence, model_version
        self.latency_ms = self.server_ms = None


@dataclass
class UploadRecord:
    """The upload of the clip to S3."""

    status: str = PENDING
    attempts: int = 0
    error: str = ""

    @property
    def final(self) -> bool:
        """True once the clip is in the bucket (or, a still clip or one kept on the device, is not to go there)."""
        return self.status in (UPLOADED, NOT_UPLOADED, KEPT_LOCAL, BUNDLED)


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
    # The clip's motion score (pi_app.recording.motion_gate): the moving fraction of the frame at its peak; None
    # for clips recorded before the gate existed.
    motion: float | None = None
    version: int = STATE_VERSION

    @property
    def finished(self) -> bool:
        """True when the clip needs no more work."""
        return self.recognition.final and self.upload.final

    def to_json(self) -> dict[str, Any]:
        """A plain dict for `state.json`."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data

    @classmethod
    def from_json(cls, data: Any) -> ClipState:
        """The inverse of `to_json`; raises ValueError or TypeError for anything of another shape (a state an SD
        card mangled must be refused here, not crash the worker later)."""
        if not isinstance(data, dict):
            raise TypeError(f"a clip state is a JSON object, not {type(data).__name__}")
        data = dict(data)
        recognition = dict(data.get("recognition", {}))
        recognition["faces"] = convert(recognition.get("faces", []), list[Face])  # ValueError when mangled
        data["recognition"] = RecognitionRecord(**recognition)
        data["upload"] = UploadRecord(**data.get("upload", {}))
        state = cls(**data)
        _check_types(state)
        return state

    @classmethod
    def rebuilt(cls, clip: str, device_id: str, *, frames: int = 0, duration_s: float = 0.0,
                fourcc: str = "") -> ClipState:
        """A fresh state for a clip whose own was lost: its key from the id and the device, its time from the id;
        it needs its upload, and is not recognised (which frame was chosen is lost with the state)."""
        started_at = clip_started_at(clip)
        state = cls(clip=clip, device_id=device_id, key=clip_key(device_id, clip), started_at=started_at,
                    recorded_at=started_at + duration_s, frames=frames, duration_s=duration_s, fourcc=fourcc,
                    frame_index=-1, frame_sharpness=0.0)
        state.recognition.status, state.recognition.error = SKIPPED_RECOVERED, "state.json unreadable: rebuilt"
        return state


_NUMBER = (int, float)
_EXPECTED_TYPES: dict[str, tuple[type, ...]] = {
    "clip": (str,), "device_id": (str,), "key": (str,), "fourcc": (str,), "started_at": _NUMBER,
    "recorded_at": _NUMBER, "duration_s": _NUMBER, "frame_sharpness": _NUMBER, "frames": (int,), "frame_index": (int,),
    "recognition.status": (str,), "recognition.attempts": (int,), "upload.status": (str,), "upload.attempts": (int,)}


def _check_types(state: ClipState) -> None:
    """Raise TypeError when a field the worker relies on has the wrong type (booleans are not numbers here)."""
    for path, kinds in _EXPECTED_TYPES.items():
        value: Any = state
        for part in path.split("."):
            value = getattr(value, part)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise TypeError(f"clip state field {path} is {type(value).__name__}")
