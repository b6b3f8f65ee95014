"""The typed objects that cross the device API, and their JSON codecs.

One definition serves every role: the recognizer builds the answers and validates the requests with them, the
device decodes the answers and builds the requests, and the OpenAPI document of the API is generated from them
(`facegate_contract.openapi`). A field renamed here is renamed for everyone, and a type checker sees each use.

msgspec, not pydantic: in the Lambda image it adds 0.55 MB and ~50 ms to a cold import-and-decode, where pydantic
adds 7.6 MB and ~185 ms (measured in the image, median of 7 runs; see the contract's closing note in the issue).

Validation is the schema's: numbers are finite and in range (JSON has no NaN, and `1e400` is out of every range),
strings and lists are bounded, ids are ASCII and matched whole, nesting is only what the types allow. Fields a
request type does not name are ignored, so a newer device can talk to an older stack.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import Meta, Struct

from facegate_contract.api import (CLIP_LINK_MAX_EXPIRES_S, CLIP_LINKS_PATH, DOOR_REQUEST_MAX_EXPIRES_S,
                                   DOOR_REQUEST_MIN_EXPIRES_S, DOOR_REQUEST_STATUS_PATH, DOOR_REQUESTS_PATH,
                                   FOOTAGE_REQUESTS_PATH, FOOTAGE_RESULTS_PATH, MAX_CLIP_BYTES, MAX_METADATA_BYTES,
                                   RECOGNIZE_PATH, UPLOAD_GRANTS_PATH, UPLOADS_PATH, VISITS_PATH)
from facegate_contract.naming import (CLIP_ID_PATTERN, FOOTAGE_BUNDLE_PREFIX, LABEL_PATTERN, UNDECIDED, UNKNOWN,
                                      VISIT_ID_PATTERN, is_clip_id, is_label, is_visit_id, parse_any_bundle_key,
                                      parse_bundle_key, parse_clip_key, parse_footage_key)

T = TypeVar("T")

EPOCH_MAX_S = 4_102_444_800.0  # 2100-01-01: any later "time" is a bug or an attack
Seconds = Annotated[float, Meta(ge=0.0, le=EPOCH_MAX_S, description="epoch seconds (UTC)")]
Unit = Annotated[float, Meta(ge=0.0, le=1.0)]
Pixels = Annotated[float, Meta(ge=-100_000.0, le=100_000.0)]
Distance = Annotated[float, Meta(ge=0.0, le=1_000.0)]
ClipId = Annotated[str, Meta(pattern=CLIP_ID_PATTERN, max_length=40, examples=["20261123T231158.500Z-000042"])]
VisitId = Annotated[str, Meta(pattern=VISIT_ID_PATTERN, max_length=40, examples=["20261123T231158.500Z-1a2b3c4d"])]
_DEVICE_DAY = r"^clips/[A-Za-z0-9][A-Za-z0-9._-]{0,62}/[0-9]{4}/[0-9]{2}/[0-9]{2}/"
ClipKey = Annotated[str, Meta(pattern=_DEVICE_DAY + CLIP_ID_PATTERN[1:-1] + r"\.mp4$", max_length=160)]
# A visit's bundle: one ZIP of its clips (facegate_contract.naming.bundle_key).
BundleKey = Annotated[str, Meta(pattern=_DEVICE_DAY + VISIT_ID_PATTERN[1:-1] + r"\.zip$", max_length=160)]
# A footage request's bundle: one ZIP of the clips a device kept in a range (facegate_contract.naming.footage_key).
FootageKey = Annotated[str, Meta(pattern=_DEVICE_DAY + FOOTAGE_BUNDLE_PREFIX + VISIT_ID_PATTERN[1:-1] + r"\.zip$",
                                 max_length=160)]
# A bundle a device uploads: a visit's, or a footage request's.
AnyBundleKey = Annotated[str, Meta(pattern=_DEVICE_DAY + f"({FOOTAGE_BUNDLE_PREFIX})?({VISIT_ID_PATTERN[1:-1]})\\.zip$",
                                   max_length=160)]
# What a device uploads: a clip, a visit's bundle or a footage request's bundle.
UploadKey = Annotated[str, Meta(pattern=_DEVICE_DAY + f"(({CLIP_ID_PATTERN[1:-1]})\\.mp4|({FOOTAGE_BUNDLE_PREFIX})?"
                                                      f"({VISIT_ID_PATTERN[1:-1]})\\.zip)$", max_length=160)]
PersonName = Annotated[str, Meta(pattern=f"^({UNKNOWN}|{LABEL_PATTERN[1:-1]})$", max_length=100,
                                 description="a First_Last label, or unknown")]
Decision = Annotated[str, Meta(pattern=f"^({UNKNOWN}|{UNDECIDED}|{LABEL_PATTERN[1:-1]})$", max_length=100)]
SightingId = Annotated[str, Meta(min_length=1, max_length=160)]  # <ISO time>#<device>/<clip>#<face>
FaceDescriptor = Annotated[bytes, Meta(min_length=8, max_length=64, description=(
    "biometric: a compact face template (int8 components, base64 in JSON) the device compares between clips to "
    "tell whether two faces are the same person; never logged or stored"))]
ShortText = Annotated[str, Meta(max_length=256)]
MetadataKey = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MetadataValue = Annotated[str, Meta(pattern=r"^[ -~]{0,512}$")]  # printable ASCII: S3 metadata travels in headers
UploadMetadata = Annotated[dict[MetadataKey, MetadataValue], Meta(max_length=16)]
# What a device uploads: a clip (facegate_contract.naming.CLIP_CONTENT_TYPE) or a bundle (BUNDLE_CONTENT_TYPE).
UploadContentType = Literal["video/mp4", "application/zip"]
_METADATA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _metadata_names_ok(names: Iterable[str]) -> bool:
    """Whether every name is letters, digits, - and _ (checked whole: MetadataKey's `$` would let a newline through)."""
    return all(_METADATA_NAME.fullmatch(name) for name in names)
# The calling device's own prefix, under which an upload grant lets it write.
DevicePrefix = Annotated[str, Meta(pattern=r"^clips/[A-Za-z0-9][A-Za-z0-9._-]{0,62}/$", max_length=80)]


class WireError(ValueError):
    """A body that is not the object it should be: malformed JSON, a missing field, a value out of range.

    `field`: the top-level field the error is at (None for the whole body); `malformed`: not JSON at all."""

    def __init__(self, message: str, field: str | None = None, malformed: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.malformed = malformed


_FIELD = re.compile(r"`\$\.([A-Za-z_][A-Za-z0-9_]*)")
_MISSING_AT_TOP = re.compile(r"^Object missing required field `([A-Za-z_][A-Za-z0-9_]*)`$")


def _invalid(exc: Exception) -> WireError:
    message = str(exc)
    found = _FIELD.search(message) or _MISSING_AT_TOP.match(message)
    return WireError(message, field=found.group(1) if found else None)


# ---- the recognize answer ------------------------------------------------------------------------------------------
class Box(Struct, frozen=True, omit_defaults=True):
    """A face's box in the frame, in pixels (x1, y1) to (x2, y2), and the detector's score when it gave one."""

    x1: Pixels
    y1: Pixels
    x2: Pixels
    y2: Pixels
    score: Unit | None = None

    def __post_init__(self) -> None:
        if self.x2 <= self.x1 or self.y2 <= self.y1:
            raise ValueError("a box needs x2 > x1 and y2 > y1")


class Face(Struct, frozen=True):
    """One face of a recognised frame: who (a label or unknown), how sure, where, and the person's details."""

    name: PersonName
    confidence: Unit
    box: Box
    distance: Distance | None = None  # None: nobody is enrolled
    details: dict[str, Any] = {}  # the person's record (the people table's item, as the console edits it)
    details_unavailable: bool = False  # the people table could not be read: the device never opens then
    sighting_id: SightingId | None = None  # this face's item in `sightings`, when it was written
    # Door-grade evidence for `name`: the match passed the person's calibrated door threshold, stricter than the one
    # that names. A name without it never opens a door; an answer from an older recognizer has it false.
    door: bool = False
    # BIOMETRIC: a face template for the device's visits only (recognizer.embed.descriptor); never logged or stored.
    descriptor: FaceDescriptor | None = None


class ImageSize(Struct, frozen=True):
    """The frame's size in pixels."""

    width: Annotated[int, Meta(ge=1, le=100_000)]
    height: Annotated[int, Meta(ge=1, le=100_000)]


class RecognizeAnswer(Struct, frozen=True):
    """What POST /recognize answers: every face in the frame."""

    faces: list[Face]
    model_version: ShortText
    backend: ShortText = ""
    image: ImageSize | None = None
    timings_ms: dict[str, float] = {}


# ---- clip transfers ------------------------------------------------------------------------------------------------
class UploadRequest(Struct, frozen=True):
    """POST /uploads: a presigned PUT for one of the calling device's clips (`clip`) or for a bundle of them (`bundle`,
    its key: a visit's or a footage request's, the device's own only), with its length and metadata signed in (S3
    refuses a PUT of any other length). Exactly one of `clip` and `bundle`."""

    size: Annotated[int, Meta(ge=1, le=MAX_CLIP_BYTES, description="the clip's (or bundle's) length in bytes")]
    clip: ClipId | None = None
    bundle: AnyBundleKey | None = None
    metadata: UploadMetadata = {}

    def __post_init__(self) -> None:
        if (self.clip is None) == (self.bundle is None):
            raise ValueError("name either a clip or a bundle")
        if self.clip is not None and not is_clip_id(self.clip):  # the pattern's `$` would let a trailing newline through
            raise ValueError("clip must be a clip id like 20261123T231158.500Z-000042")
        if self.bundle is not None and parse_any_bundle_key(self.bundle) is None:
            raise ValueError("bundle must be a bundle key like clips/<device>/2026/11/23/<visit-id>.zip")


class UploadLink(Struct, frozen=True):
    """The answer to POST /uploads: PUT the clip (or bundle) to `url` with exactly these headers (they are signed)."""

    key: UploadKey
    url: str
    headers: dict[str, str]
    expires_in: int
    method: Literal["PUT"] = "PUT"


class UploadGrantRequest(Struct, frozen=True):
    """POST /upload-grants: one presigned POST policy for many uploads of one kind (`content_type`: a clip or a bundle)
    under the calling device's own prefix, each carrying exactly the metadata names `metadata` (S3 refuses a form
    field its policy does not name, and a named one the form lacks)."""

    content_type: UploadContentType
    metadata: Annotated[list[MetadataKey], Meta(max_length=16)] = []

    def __post_init__(self) -> None:
        if not _metadata_names_ok(self.metadata):
            raise ValueError("metadata names are letters, digits, - and _")
        if len({name.lower() for name in self.metadata}) != len(self.metadata):
            raise ValueError("metadata names must differ (S3 keeps them lower-case)")


class UploadGrant(Struct, frozen=True):
    """The answer to POST /upload-grants: POST `url` a multipart form of `fields`, then `key` (under `prefix`), then
    `x-amz-meta-<name>` for each of `metadata`, and the file last (field `file`, 1 to `max_bytes` bytes), until
    `expires_in` seconds from now (`expires_at` on the API's clock; sooner if S3 refuses it)."""

    url: str
    fields: dict[str, str]
    prefix: DevicePrefix
    content_type: UploadContentType
    metadata: list[MetadataKey]
    max_bytes: int
    expires_in: int
    expires_at: Seconds
    method: Literal["POST"] = "POST"


class ClipLinkRequest(Struct, frozen=True):
    """POST /clip-links: a presigned GET of one of the calling device's clips (for an alert's receiver)."""

    key: ClipKey
    expires_in: Annotated[int, Meta(ge=1, le=CLIP_LINK_MAX_EXPIRES_S)] = 3600

    def __post_init__(self) -> None:
        if parse_clip_key(self.key) is None:
            raise ValueError("key must be a clip key (clips/<device>/YYYY/MM/DD/<clip>.mp4)")


class ClipLink(Struct, frozen=True):
    """The answer to POST /clip-links."""

    key: ClipKey
    url: str
    expires_in: int


# ---- visit reports -------------------------------------------------------------------------------------------------
class EvidenceVote(Struct, frozen=True):
    """One face in one clip of a visit, as the device counted it."""

    key: ClipKey
    name: PersonName = UNKNOWN
    confidence: Unit | None = None
    box: Box | None = None
    at: Seconds | None = None
    sighting_id: SightingId | None = None
    clip: ClipId | None = None


class VisitReport(Struct, frozen=True):
    """POST /visits: a visit the device decided or ended (the latest report of a visit wins)."""

    visit_id: VisitId
    first_at: Seconds
    last_at: Seconds
    decision: Decision = UNDECIDED
    confidence: Unit | None = None
    agreeing: Annotated[int, Meta(ge=0, le=100_000)] = 0
    keys: Annotated[list[ClipKey], Meta(max_length=2_000)] = []
    conflicts: Annotated[list[PersonName], Meta(max_length=100)] = []
    ended: bool = False
    evidence: Annotated[list[EvidenceVote], Meta(max_length=500)] = []
    # Where the clips of `keys` not uploaded alone are: the visit's bundle (members <clip-id>.mp4). Sent as soon as
    # the visit has one (the key is known before its upload): a reader may find it not there yet.
    bundle: BundleKey | None = None

    def __post_init__(self) -> None:
        if self.bundle is not None and parse_bundle_key(self.bundle) is None:
            raise ValueError("bundle must be a bundle key like clips/<device>/2026/11/23/<visit-id>.zip")
        if not is_visit_id(self.visit_id):
            raise ValueError("visit_id must look like 20261123T231158.500Z-1a2b3c4d")
        if self.last_at < self.first_at:
            raise ValueError("last_at is before first_at")
        if self.decision not in (UNKNOWN, UNDECIDED) and not is_label(self.decision):
            raise ValueError("decision must be a First_Last label, unknown or undecided")


class VisitStored(Struct, frozen=True):
    """The answer to POST /visits."""

    visit_id: VisitId
    stored: bool
    clips: int


# ---- door requests (confirm mode) -----------------------------------------------------------------------------------
DoorRequestId = Annotated[str, Meta(pattern=VISIT_ID_PATTERN, max_length=40, examples=["20261123T231158.500Z-1a2b3c4d"],
                                    description="made by the device, like a visit id")]
DoorStatus = Literal["pending", "approved", "denied", "expired"]
PENDING, APPROVED, DENIED, EXPIRED = "pending", "approved", "denied", "expired"


class DoorRequest(Struct, frozen=True):
    """POST /door-requests: the door rule would open for `name` in this visit; an operator approves or denies it
    before `expires_in` seconds pass (filing the same request id again answers its state)."""

    request_id: DoorRequestId
    visit_id: VisitId
    name: PersonName
    clip_key: ClipKey | None = None  # the clip with the face, for the console
    expires_in: Annotated[int, Meta(ge=DOOR_REQUEST_MIN_EXPIRES_S, le=DOOR_REQUEST_MAX_EXPIRES_S)] = 60

    def __post_init__(self) -> None:
        if not is_visit_id(self.request_id) or not is_visit_id(self.visit_id):
            raise ValueError("request_id and visit_id must look like 20261123T231158.500Z-1a2b3c4d")
        if not is_label(self.name):
            raise ValueError("name must be an enrolled person's First_Last label")
        if self.clip_key is not None and parse_clip_key(self.clip_key) is None:
            raise ValueError("clip_key must be a clip key (clips/<device>/YYYY/MM/DD/<clip>.mp4)")


class DoorRequestQuery(Struct, frozen=True):
    """POST /door-request-status: the state of one of the calling device's door requests."""

    request_id: DoorRequestId

    def __post_init__(self) -> None:
        if not is_visit_id(self.request_id):
            raise ValueError("request_id must look like 20261123T231158.500Z-1a2b3c4d")


class DoorRequestState(Struct, frozen=True):
    """A door request's state: only `approved` opens the door, and only before `expires_at`."""

    request_id: DoorRequestId
    status: DoorStatus
    expires_at: Seconds
    decided_at: Seconds | None = None


# ---- footage requests (the console asks a device for the clips it kept) -----------------------------------------------
FootageRequestId = Annotated[str, Meta(pattern=VISIT_ID_PATTERN, max_length=40, examples=["20261123T231158.500Z-1a2b3c4d"],
                                       description="made by the console, like a visit id")]
FootageStatus = Literal["requested", "uploaded", "nothing_kept", "expired"]
REQUESTED, UPLOADED, NOTHING_KEPT = "requested", "uploaded", "nothing_kept"  # and EXPIRED, as door requests
FootageOutcome = Literal["uploaded", "nothing_kept"]


def _check_request_id(request_id: str) -> None:
    if not is_visit_id(request_id):  # the pattern's `$` would let a trailing newline through
        raise ValueError("request_id must look like 20261123T231158.500Z-1a2b3c4d")


class FootageAsk(Struct, frozen=True):
    """One open footage request as its device reads it: upload the clips it still keeps whose recording started in
    [`from_at`, `to_at`] as one bundle under `key` (its own prefix), then answer POST /footage-results."""

    request_id: FootageRequestId
    from_at: Seconds
    to_at: Seconds
    key: FootageKey


class FootageRequestsQuery(Struct, frozen=True):
    """POST /footage-requests: the calling device's open footage requests (no fields: the key says who asks)."""


class FootageRequests(Struct, frozen=True):
    """The answer to POST /footage-requests: the device's own requests not answered yet and not expired, oldest
    first."""

    requests: Annotated[list[FootageAsk], Meta(max_length=100)]


class FootageResult(Struct, frozen=True):
    """POST /footage-results: the device's answer to one of its footage requests: `uploaded` (the bundle is at `key`,
    holding `clips`) or `nothing_kept` (no clip of the range is on the device any more; no key, no clips)."""

    request_id: FootageRequestId
    status: FootageOutcome
    key: FootageKey | None = None
    clips: Annotated[list[ClipId], Meta(max_length=2_000)] = []

    def __post_init__(self) -> None:
        _check_request_id(self.request_id)
        if self.status == UPLOADED:
            if self.key is None or parse_footage_key(self.key) is None or not self.clips:
                raise ValueError("an uploaded result names its bundle key and its clips")
            if not all(is_clip_id(clip) for clip in self.clips):
                raise ValueError("clips must be clip ids like 20261123T231158.500Z-000042")
        elif self.key is not None or self.clips:
            raise ValueError("a nothing_kept result names no key and no clips")


class FootageRequestState(Struct, frozen=True):
    """A footage request's state (the answer to POST /footage-results): `requested` until its device answers,
    `expired` when it never did in time; `uploaded` with its bundle's key and how many clips it holds."""

    request_id: FootageRequestId
    status: FootageStatus
    key: FootageKey | None = None
    clips: Annotated[int, Meta(ge=0, le=100_000)] = 0


class ErrorBody(Struct, frozen=True):
    """Every error the API answers (4xx and 5xx): a machine-readable kind and a sentence."""

    error: str
    message: str


# ---- codecs --------------------------------------------------------------------------------------------------------
_ENCODER = msgspec.json.Encoder(decimal_format="number")  # DynamoDB numbers arrive as Decimal


def encode(value: Any) -> bytes:
    """JSON of a wire object (or of plain data holding them)."""
    return _ENCODER.encode(value)


def to_builtins(value: Any) -> Any:
    """A wire object as plain dicts and lists (for logs, events on disk, and DynamoDB items)."""
    return msgspec.to_builtins(value)


# Deeper JSON is refused before it is parsed. The wire's objects nest 4 deep; left to the parser, the limit would be
# the interpreter's recursion limit, which other code in the process may raise (a deep unknown field then passes).
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(body: bytes) -> bool:
    """Whether `body` opens more than MAX_JSON_DEPTH arrays and objects inside each other (outside its strings)."""
    depth = 0
    for char in _JSON_STRING.sub(b"", body).translate(None, _NOT_A_BRACKET):
        depth += 1 if char in b"[{" else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


def decode(body: bytes | str, kind: type[T]) -> T:
    """`body` as a `kind`, or WireError saying what is wrong (in one line, naming the field)."""
    if json_too_deep(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body):
        raise WireError(f"malformed JSON: nested more than {MAX_JSON_DEPTH} deep", malformed=True)
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise _invalid(exc) from exc
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise WireError(f"malformed JSON: {exc}", malformed=True) from exc


def convert(data: Any, kind: type[T]) -> T:
    """Plain data (already parsed JSON) as a `kind`, or WireError."""
    try:
        return msgspec.convert(data, type=kind)
    except (msgspec.ValidationError, RecursionError) as exc:
        raise _invalid(exc) from exc


def upload_metadata(raw: dict[str, str]) -> dict[str, str]:
    """An upload's S3 metadata as it is signed: names and values in the contract's rules, lower-case names (S3 keeps
    them so), at most MAX_METADATA_BYTES in all; WireError (field `metadata`) otherwise."""
    try:
        metadata = convert(raw, UploadMetadata)
    except WireError as exc:
        raise WireError(f"metadata: {exc}", field="metadata") from exc
    if not _metadata_names_ok(metadata):
        raise WireError("metadata names are letters, digits, - and _", field="metadata")
    if sum(len(k) + len(v) for k, v in metadata.items()) > MAX_METADATA_BYTES:
        raise WireError(f"metadata exceeds {MAX_METADATA_BYTES} bytes", field="metadata")
    return {k.lower(): v for k, v in metadata.items()}


# Each route's JSON request and answer (POST /recognize takes a JPEG or PNG frame, not JSON).
REQUESTS: dict[str, type[Struct]] = {UPLOADS_PATH: UploadRequest, UPLOAD_GRANTS_PATH: UploadGrantRequest,
                                     CLIP_LINKS_PATH: ClipLinkRequest,
                                     VISITS_PATH: VisitReport, DOOR_REQUESTS_PATH: DoorRequest,
                                     DOOR_REQUEST_STATUS_PATH: DoorRequestQuery,
                                     FOOTAGE_REQUESTS_PATH: FootageRequestsQuery, FOOTAGE_RESULTS_PATH: FootageResult}
ANSWERS: dict[str, type[Struct]] = {RECOGNIZE_PATH: RecognizeAnswer, UPLOADS_PATH: UploadLink,
                                    UPLOAD_GRANTS_PATH: UploadGrant,
                                    CLIP_LINKS_PATH: ClipLink, VISITS_PATH: VisitStored,
                                    DOOR_REQUESTS_PATH: DoorRequestState, DOOR_REQUEST_STATUS_PATH: DoorRequestState,
                                    FOOTAGE_REQUESTS_PATH: FootageRequests, FOOTAGE_RESULTS_PATH: FootageRequestState}
