"""The device's events: what `pi_app` puts on its event bus and appends to `events.jsonl`, one typed object each.

Every event is a msgspec Struct tagged by its `event` field (`{"event": "upload", "ts": ..., "clip": ...}` on disk,
as before), so a sink matches on the type (`isinstance(event, ClipUploaded)`) and a type checker sees every field a
sink reads. `ts` is stamped by the bus (UTC ISO 8601). Faces are the API's own `wire.Face` (without the biometric
descriptor) and a visit's evidence is the visit report's `wire.EvidenceVote`: a field renamed in the answer or the
report is renamed in the events too.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias, TypeVar

import msgspec
from msgspec import Struct

from facegate_contract.wire import EvidenceVote, Face, VisitReport, WireError, decode, encode


class DeviceEvent(Struct, frozen=True, kw_only=True, tag_field="event"):
    """Every device event: its name (the `event` tag) and when the bus took it."""

    ts: str = ""

    @property
    def name(self) -> str:
        """The event's name as it is written (`clip_recorded`, `recognition`, ...)."""
        return str(type(self).__struct_config__.tag)


# ---- recording -------------------------------------------------------------------------------------------------------
class ClipRecorded(DeviceEvent, frozen=True, kw_only=True, tag="clip_recorded"):
    """A clip is complete in the spool and queued for its work."""

    clip: str
    frames: int = 0
    duration_s: float = 0.0
    fourcc: str = ""
    frame_index: int = -1
    stream_offset_s: float = 0.0  # where the clip starts in the camera's stream


class ClipsResumed(DeviceEvent, frozen=True, kw_only=True, tag="resumed"):
    """Unfinished clips found in the spool at start, queued again."""

    clips: int


class RecordingPaused(DeviceEvent, frozen=True, kw_only=True, tag="recording_paused"):
    """The spool is over its disk budget: frames are dropped until it has room again."""

    reason: str
    spool_bytes: int = 0
    spool_max_bytes: int = 0
    free_bytes: int = 0
    min_free_bytes: int = 0


class RecordingResumed(DeviceEvent, frozen=True, kw_only=True, tag="recording_resumed"):
    """Recording goes on after a pause."""

    after: str | None = None  # the pause's reason
    paused_s: float = 0.0
    frames_dropped: int = 0
    spool_bytes: int = 0
    spool_max_bytes: int = 0
    free_bytes: int = 0
    min_free_bytes: int = 0


# ---- a clip's work -------------------------------------------------------------------------------------------------
# A clip's final recognition statuses (pi_app.recording.clip_state): answered by the API (recognised, unknown,
# no_face), refused by it, not sent (skipped_*), or `tracked`: not sent because the visit it belongs to is decided
# and acted on and the same face(s) are still there (the answer is the reference clip's, see `tracked_from`).
RECOGNITION_STATUSES = frozenset({"recognised", "unknown", "no_face", "refused", "skipped_stale", "skipped_still",
                                  "skipped_no_frame", "skipped_recovered", "tracked"})


class ClipRecognition(DeviceEvent, frozen=True, kw_only=True, tag="recognition"):
    """A clip's recognition reached a final status (RECOGNITION_STATUSES)."""

    clip: str
    status: str
    key: str = ""
    recorded_at: float | None = None
    names: list[str] = []
    faces: list[Face] = []  # the answer's faces, their descriptors left out (biometric)
    confidence: float | None = None
    latency_ms: float | None = None
    server_ms: float | None = None
    model_version: str = ""
    attempts: int = 0
    error: str = ""
    age_s: float | None = None  # skipped_stale: how old the clip was
    motion: float | None = None  # skipped_still: the clip's motion score
    tracked_from: str | None = None  # tracked: the recognised clip whose faces were found again in this one


class ClipUploaded(DeviceEvent, frozen=True, kw_only=True, tag="upload"):
    """A clip is in the bucket."""

    clip: str
    key: str
    bytes: int = 0
    recognition: str = ""  # the clip's recognition status at upload
    attempts: int = 0


class ClipKept(DeviceEvent, frozen=True, kw_only=True, tag="kept"):
    """A clip stays on the device instead of going to S3 (the `visits` upload policy: an empty doorway), in the
    spool's `.kept/` area until its rolling budget needs the room; `evicted` are the kept clips deleted for it."""

    clip: str
    key: str  # where it would be in the bucket, were it brought back and uploaded
    bytes: int = 0
    recognition: str = ""  # no_face or skipped_still
    evicted: list[str] = []


class BundleUploaded(DeviceEvent, frozen=True, kw_only=True, tag="bundle_uploaded"):
    """A visit's clips are in the bucket as one object: its bundle (an uncompressed ZIP, members `<clip-id>.mp4`),
    one upload URL and one PUT for all of them (the `visits` upload policy)."""

    visit_id: str
    key: str  # the bundle's key (facegate_contract.naming.bundle_key)
    clips: list[str] = []  # its members' clip ids
    keys: list[str] = []  # where each would be as a clip of its own (what visit reports name)
    bytes: int = 0
    attempts: int = 0


class ServiceTrouble(DeviceEvent, frozen=True, kw_only=True):
    """A call to the stack failed and will be retried (the three kinds below)."""

    clip: str
    stage: str  # recognize | upload | bundle (then `clip` is the visit id)
    attempt: int = 0
    error: str = ""
    retry_in_s: float = 0.0
    status: int | None = None  # the HTTP status, when there was an answer
    retry_after_s: float | None = None  # the service's Retry-After, when it sent one


class StageFailed(ServiceTrouble, frozen=True, kw_only=True, tag="failure"):
    """Unavailable, refused upload, or anything unexpected."""


class AuthFailed(ServiceTrouble, frozen=True, kw_only=True, tag="auth_failed"):
    """The API key was rejected (401/403): the stage waits long."""


class Throttled(ServiceTrouble, frozen=True, kw_only=True, tag="throttled"):
    """The service said slow down (429)."""


# ---- visits --------------------------------------------------------------------------------------------------------
class VisitEvent(DeviceEvent, frozen=True, kw_only=True):
    """What every visit event says about the visit: its device-time bounds, clips, decision and evidence."""

    visit_id: str
    first_at: float
    last_at: float
    start: str = ""  # first_at and last_at in UTC ISO 8601
    end: str = ""
    clips: list[str] = []
    keys: list[str] = []
    decision: str = "undecided"
    share: float = 0.0
    confidence: float | None = None
    agreeing: int = 0
    votes: dict[str, float] = {}  # label -> summed confidence in the latest window
    label_clips: dict[str, int] = {}  # label -> clips in the latest window
    conflict: list[str] = []  # enrolled names in conflict now
    conflicts: list[str] = []  # every enrolled name ever in conflict during the visit
    ended: bool = False
    evidence: list[EvidenceVote] = []
    evidence_dropped: int = 0

    def report(self) -> VisitReport:
        """The visit as POST /visits takes it (raises ValueError for a visit id or decision it refuses)."""
        return VisitReport(visit_id=self.visit_id, first_at=self.first_at, last_at=self.last_at,
                           decision=self.decision, confidence=self.confidence, agreeing=self.agreeing,
                           keys=list(self.keys), conflicts=list(self.conflicts), ended=self.ended,
                           evidence=list(self.evidence))


class VisitStarted(VisitEvent, frozen=True, kw_only=True, tag="visit_started"):
    """A face no open visit holds: a new visit."""


class VisitDecided(VisitEvent, frozen=True, kw_only=True, tag="visit_decided"):
    """A visit's decision changed."""

    previous: str = "undecided"


class VisitEnded(VisitEvent, frozen=True, kw_only=True, tag="visit_ended"):
    """A visit is over (a gap, clips that never came, or shutdown)."""

    reason: str = ""


class VisitAction(DeviceEvent, frozen=True, kw_only=True, tag="visit_action"):
    """What the actions did for a visit (a rule fired, or a conflict kept the door shut)."""

    visit_id: str
    rule: str
    decision: str
    names: list[str] = []  # the conflicting names (rule "conflict")
    pulses: list[str] = []
    door: bool = False
    door_reason: str = ""
    alert_id: str | None = None
    age_s: float | None = None
    door_request: str = ""  # confirm mode: the door request filed for the visit (rule `door_request`: its outcome)


class VisitReported(DeviceEvent, frozen=True, kw_only=True, tag="visit_reported"):
    """A visit report the API took (POST /visits answered): one per call the device made. A `visit_decided` report
    held back for the visit's end (pi_app.transport.visit_reporter) and replaced by its final one is never sent."""

    visit_id: str
    decision: str = "undecided"
    ended: bool = False


# ---- the run -------------------------------------------------------------------------------------------------------
class RunSummary(DeviceEvent, frozen=True, kw_only=True, tag="summary"):
    """The device run's counters and latencies, at exit."""

    clips: int = 0
    recorded: int = 0
    resumed: int = 0
    recognised: int = 0
    unknown: int = 0
    no_face: int = 0
    skipped_stale: int = 0
    tracked: int = 0  # clips not sent: the same face(s) of a decided visit (ClipRecognition status `tracked`)
    refused: int = 0
    failures: int = 0
    uploaded: int = 0
    bundled: int = 0  # clips that went up in their visit's bundle
    bundles: int = 0
    auth_failed: int = 0
    throttled: int = 0
    pending_uploads: int = 0
    latency_ms: dict[str, float | None] = {}  # p50, p95, n
    pending: int = 0
    drained: bool = True
    fourcc: str = ""
    device_id: str = ""
    seconds: float = 0.0
    frames_dropped_paused: int = 0
    recording_paused: str | None = None
    sink_errors: dict[str, int] = {}


AnyDeviceEvent: TypeAlias = (ClipRecorded | ClipsResumed | RecordingPaused | RecordingResumed | ClipRecognition
                             | ClipUploaded | BundleUploaded | ClipKept | StageFailed | AuthFailed | Throttled | VisitStarted | VisitDecided
                             | VisitEnded | VisitAction | VisitReported | RunSummary)


# ---- codecs --------------------------------------------------------------------------------------------------------
def encode_event(event: DeviceEvent) -> bytes:
    """One event as a JSON object (one line of `events.jsonl`, without its newline)."""
    return encode(event)


def decode_event(line: bytes | str) -> AnyDeviceEvent:
    """One line of `events.jsonl` as its event; WireError for an unknown event or a malformed line."""
    return decode(line, AnyDeviceEvent)  # type: ignore[arg-type]  # a union is a valid msgspec type


def event_from_builtins(data: dict[str, Any]) -> AnyDeviceEvent:
    """An event from plain data (a JSON object already parsed); WireError when it is not one."""
    try:
        return msgspec.convert(data, AnyDeviceEvent)  # type: ignore[arg-type]
    except (msgspec.ValidationError, TypeError) as exc:
        raise WireError(str(exc)) from exc


E = TypeVar("E", bound=DeviceEvent)


def events_of(events: Iterable[DeviceEvent], kind: type[E]) -> list[E]:
    """The events of one type (or of a base, e.g. VisitEvent), in order."""
    return [e for e in events if isinstance(e, kind)]


__all__ = ["AnyDeviceEvent", "AuthFailed", "BundleUploaded", "ClipKept", "ClipRecognition", "ClipRecorded", "ClipUploaded", "ClipsResumed",
           "DeviceEvent", "RecordingPaused", "RecordingResumed", "RunSummary", "ServiceTrouble", "StageFailed",
           "Throttled", "VisitAction", "VisitDecided", "VisitEnded", "VisitEvent", "VisitReported", "VisitStarted",
           "decode_event",
           "encode_event", "event_from_builtins", "events_of"]
