"""What the console's pages read and write, through the modules the CLI uses: visits from `services.visit_log`
(`facegate sightings`), the login from `services.console_login` (`facegate deploy`), enrolment and removal from
`recognizer.face_library.enrolment` (`facegate enroll`, `facegate forget`), the library from
`recognizer.face_library.library` (`facegate people`), the stack from `recognizer.face_library.stack_access`."""
from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from facegate_contract import UNKNOWN, is_label, parse_clip_key
from facegate_cli.console.clip_media import ClipMedia, ClipMissing
from facegate_cli.console.strangers import FaceRef, StrangerGroup, StrangerReview, parse_token, unknown_faces
from recognizer.faces import Detection
from facegate_cli.console.enrolment_undo import UndoBook, UndoRecord
from recognizer.face_library.enrolment import (EnrolmentResult, RemovalResult, enroll, remove_person, restore_gallery,
                                               set_details)
from recognizer.face_library.library import Library, LibraryEntry, load_library
from recognizer.face_library.person_photos import StoredPhoto
from recognizer.face_library.stack_access import StackAccess
from services.console_login import LoginRecord, load_login
from services.door_log import (DoorDecisionError, DoorRequestRecord, decide_door_request, get_door_request,
                               list_door_requests)
from services.footage_log import (FootageRequestError, FootageRequestRecord, get_footage_request,
                                  list_footage_requests, request_footage)
from services.visit_log import VisitPage, VisitRecord, get_visit, list_visits, page_visits, set_review

log = logging.getLogger(__name__)

IGNORED = "ignored"
REVIEW_WINDOW_S = 30 * 86400  # clips (and so faces) expire after the stack's retention, 30 days by default
MAX_UPLOAD_PHOTOS = 40
DEVICE_SCAN = 500
LIST_THUMBNAIL = 96  # px: the size the timeline asks for


CLOSE_RATIO = 1.1  # faces within this many times the model's threshold of an enrolled person are "close" to them


class ConsoleError(ValueError):
    """Something the person at the browser can fix (a bad label, a photo with no face, a visit already reviewed)."""


@dataclass(frozen=True)
class StrangerEnrolment:
    """A stranger enrolled from the console, and the token that undoes it."""

    result: EnrolmentResult
    undo_token: str
    visits: int


@dataclass(frozen=True)
class Closeness:
    """How near chosen faces are to someone enrolled: their mean distance and the model's threshold."""

    label: str
    distance: float
    threshold: float

    @property
    def would_be_named(self) -> bool:
        """The model would call these faces that person already."""
        return self.distance <= self.threshold


@dataclass(frozen=True)
class Upload:
    """One uploaded photo."""

    filename: str
    body: bytes


def default_pipeline_loader(backend: str) -> Any:
    """The recognizer's own pipeline (the exported networks: the per-user cache, or /opt/facegate/models in the
    image), as `facegate enroll` loads it."""
    from recognizer.pipeline import FacePipeline
    from recognizer.face_library.model_cache import ensure_onnx_models

    ensure_onnx_models()
    return FacePipeline.load(backend)


def presigner_for(access: StackAccess, public_endpoint_url: str | None) -> Any:
    """An S3 client that signs URLs for the host the browser reaches: the emulator's public URL, or AWS."""
    from botocore.config import Config

    endpoint = (public_endpoint_url or access.outputs.endpoint_url) if access.outputs.endpoint_url else None
    style = "path" if endpoint else "virtual"
    return access.session.client("s3", endpoint_url=endpoint, region_name=access.outputs.region,
                                 config=Config(signature_version="s3v4", s3={"addressing_style": style}))


def best_face(visit: VisitRecord) -> FaceRef | None:
    """The face that stands for the visit: the decision's most confident face, else its largest unknown one."""
    named = [e for e in visit.evidence if e.get("name") == visit.decision and e.get("key") and isinstance(e.get("box"), dict)]
    if named:
        top = max(named, key=lambda e: e.get("confidence") or 0)
        box = top["box"]
        return FaceRef(visit.visit_id, top["key"], tuple(float(box[k]) for k in ("x1", "y1", "x2", "y2")))  # type: ignore[arg-type]
    faces = unknown_faces(visit, 1)
    if faces:
        return faces[0]
    for item in visit.evidence:
        if item.get("key") and isinstance(item.get("box"), dict):
            box = item["box"]
            return FaceRef(visit.visit_id, item["key"], tuple(float(box[k]) for k in ("x1", "y1", "x2", "y2")))  # type: ignore[arg-type]
    return None


class ConsoleBackend:
    """The stack as the console sees it. Long calls (enrolment, embedding) run in the web server's worker threads."""

    def __init__(self, access: StackAccess, presigner: Any,
                 pipeline_loader: Callable[[str], Any] = default_pipeline_loader, login_ttl_s: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.access = access
        self.outputs = access.outputs
        self.s3 = access.client("s3")
        self.visits_table = access.table(access.outputs.sightings_table)
        self.people_table = access.people()
        self.store = access.model_store()
        self.photos = access.photos()
        self.media = ClipMedia(self.s3, presigner, access.outputs.bucket)
        self.review = StrangerReview(self._embed_face)
        self._pipeline_loader = pipeline_loader
        self._pipeline: Any = None
        self._pipeline_lock = threading.Lock()
        self._login: tuple[float, LoginRecord | None] | None = None
        self._login_ttl_s = login_ttl_s
        self._devices: tuple[float, list[str]] | None = None
        self.undos = UndoBook()
        self._clock = clock

    @classmethod
    def open(cls, outputs_path: Path | None, endpoint_url: str | None, profile: str | None,
             public_endpoint_url: str | None = None, **kwargs: Any) -> ConsoleBackend:
        access = StackAccess.open(outputs_path, endpoint_url, profile)
        return cls(access, presigner_for(access, public_endpoint_url), **kwargs)

    def describe(self) -> str:
        """Where the stack is, without any secret."""
        where = f"emulator {self.outputs.endpoint_url}" if self.outputs.endpoint_url else "AWS"
        return f"{where}, region {self.outputs.region}, stack {self.outputs.prefix}"

    # ---- login ------------------------------------------------------------------------------------------------
    def login_record(self) -> LoginRecord | None:
        """The stored login (re-read at most every `login_ttl_s`: a password set by a new deploy takes over)."""
        now = time.monotonic()
        if self._login is None or now - self._login[0] > self._login_ttl_s:
            self._login = (now, load_login(self.s3, self.outputs.bucket))
        return self._login[1]

    # ---- the face pipeline (loaded once, on first need or by warm()) ---------------------------------------------
    def pipeline(self) -> Any:
        with self._pipeline_lock:
            if self._pipeline is None:
                current = self.store.load_current()
                self._pipeline = self._pipeline_loader(current.classifier.backend if current else "dlib")
            return self._pipeline

    def keep_review_ready(self, every_s: float = 20.0) -> threading.Thread:
        """Embed new strangers' faces in the background, so the review page finds them cached."""
        def prepare() -> None:
            self.pipeline()
            for visit in self.strangers_to_review():
                for face in unknown_faces(visit):
                    self.review.embedding(face)
        return _repeat(prepare, every_s, "console-review", "stranger faces not prepared; will retry")

    def prepare_thumbnails(self, limit: int = 50) -> int:
        """Cut the face thumbnail of each of the newest `limit` visits (as the timeline shows them) into the cache,
        so a listed visit has its face at first paint; returns how many were cut now (cached ones cost nothing)."""
        made = 0
        for visit in self._noted(page_visits(self.visits_table, limit=limit).visits):
            face = best_face(visit)
            if face is None or self.media.has_face_jpeg(face.key, face.box_json, LIST_THUMBNAIL):
                continue
            try:
                self.media.face_jpeg(face.key, face.box_json, LIST_THUMBNAIL)
                made += 1
            except (ClipMissing, ValueError):  # expired clip, box off the frame: the page says so
                continue
        return made

    def keep_thumbnails_ready(self, every_s: float = 2.0) -> threading.Thread:
        """Prepare the newest visits' thumbnails in the background, soon after each visit is reported."""
        return _repeat(self.prepare_thumbnails, every_s, "console-thumbnails", "thumbnails not prepared; will retry")

    def _embed_face(self, key: str, box: dict[str, float]) -> np.ndarray:
        frame, pixels = self.media.face_box(key, box)
        detection = Detection(tuple(int(round(v)) for v in pixels), 1.0)  # type: ignore[arg-type]
        return self.pipeline().embedder.embed(frame.rgb, [detection])[0]

    # ---- visits -----------------------------------------------------------------------------------------------
    def history(self, since: float | None, before: str | None, keep: Callable[[VisitRecord], bool] | None,
                limit: int = 50) -> VisitPage:
        """One page of the timeline (newest first, older than the visit id `before`)."""
        page = page_visits(self.visits_table, since=since, before=before, keep=keep, limit=limit)
        self._noted(page.visits)
        return page

    def devices(self) -> list[str]:
        """The devices of the latest visits (at most DEVICE_SCAN read; re-read at most every 30 s), for the
        timeline's device picker."""
        now = time.monotonic()
        if self._devices is None or now - self._devices[0] > 30:
            recent = page_visits(self.visits_table, limit=DEVICE_SCAN, max_read=DEVICE_SCAN).visits
            self._devices = (now, sorted({v.device for v in recent if v.device}))
        return self._devices[1]

    def visit(self, visit_id: str) -> VisitRecord | None:
        visit = get_visit(self.visits_table, visit_id)
        return None if visit is None else self._noted([visit])[0]

    def _noted(self, visits: list[VisitRecord]) -> list[VisitRecord]:
        """Tell the media which bundle each visit's clips may be in (its report says): every page that shows a
        visit's clips or faces reads its visits through here."""
        for visit in visits:
            if visit.bundle:
                self.media.note_bundle(visit.bundle, visit.keys + [e.get("key", "") for e in visit.evidence])
        return visits

    # ---- door requests (confirm mode) ---------------------------------------------------------------------------
    def now(self) -> float:
        """The console's clock (epoch seconds): what "expired" is measured against."""
        return self._clock()

    def door_requests(self, limit: int = 50) -> list[DoorRequestRecord]:
        """The newest door requests, pending ones with their time left."""
        return list_door_requests(self.visits_table, self._clock(), limit)

    def door_request(self, request_id: str) -> DoorRequestRecord | None:
        """One door request, or None."""
        return get_door_request(self.visits_table, request_id, self._clock())

    def decide_door(self, request_id: str, approve: bool) -> DoorRequestRecord:
        """Approve or deny a pending request (the device opens on approval); ConsoleError when it is decided,
        expired or unknown."""
        try:
            return decide_door_request(self.visits_table, request_id, approve, "console operator", self._clock())
        except DoorDecisionError as exc:
            raise ConsoleError(str(exc)) from exc

    # ---- footage requests (clips kept on a device) ---------------------------------------------------------------
    def request_footage(self, device: str, from_at: float, to_at: float, visit_id: str = "") -> FootageRequestRecord:
        """Ask `device` for the clips it kept of [from_at, to_at] (it uploads them at its next poll); ConsoleError for
        a bad device or range."""
        try:
            return request_footage(self.visits_table, device, from_at, to_at, "console operator", self._clock(),
                                   visit_id=visit_id)
        except FootageRequestError as exc:
            raise ConsoleError(str(exc)) from exc

    def footage_requests(self, limit: int = 50) -> list[FootageRequestRecord]:
        """The newest footage requests, with their state."""
        return list_footage_requests(self.visits_table, self._clock(), limit)

    def footage_request(self, request_id: str) -> FootageRequestRecord | None:
        """One footage request, or None; an uploaded one's clips are noted as members of its bundle for the media."""
        record = get_footage_request(self.visits_table, request_id, self._clock())
        if record is not None and record.state.key:
            self.media.note_bundle(record.state.key, record.clip_keys)
        return record

    # ---- strangers --------------------------------------------------------------------------------------------
    def strangers_to_review(self, limit: int = 200) -> list[VisitRecord]:
        """Unknown visits nobody reviewed yet, newest first, within the clips' retention."""
        visits = list_visits(self.visits_table, since=self._clock() - REVIEW_WINDOW_S, name=UNKNOWN, limit=limit)
        return self._noted([v for v in visits if not v.review])

    def grouping_threshold(self) -> float:
        current = self.store.load_current()
        return current.classifier.threshold if current else float(self.pipeline().embedder.default_threshold)

    def stranger_groups(self) -> tuple[list[StrangerGroup], list[VisitRecord]]:
        return self.review.groups(self.strangers_to_review(), self.grouping_threshold())

    def _reviewable(self, visit_ids: list[str]) -> list[VisitRecord]:
        visits = []
        for visit_id in dict.fromkeys(visit_ids):
            visit = self.visit(visit_id)
            if visit is None:
                raise ConsoleError(f"visit {visit_id} is gone (expired?)")
            if visit.decision != UNKNOWN:
                raise ConsoleError(f"visit {visit_id} is not a stranger's (decided {visit.decision})")
            if visit.review:
                raise ConsoleError(f"visit {visit_id} was already reviewed ({visit.review})")
            visits.append(visit)
        if not visits:
            raise ConsoleError("no visit chosen")
        return visits

    def _chosen_faces(self, visits: list[VisitRecord], face_tokens: list[str]) -> list[FaceRef]:
        allowed = {f.token: f for v in visits for f in unknown_faces(v, limit=10_000)}
        faces = []
        for token in dict.fromkeys(face_tokens):
            parsed = parse_token(token)
            if parsed is None or parse_clip_key(parsed[0]) is None or token not in allowed:
                raise ConsoleError("a chosen face is not one of these visits' unknown faces")
            faces.append(allowed[token])
        if not faces:
            raise ConsoleError("no face chosen: tick at least one face of the group")
        return faces

    def preview_strangers(self, label: str, face_tokens: list[str],
                          visit_ids: list[str]) -> tuple[list[FaceRef], list[Closeness]]:
        """What "This is First_Last" would enrol: the chosen faces, and the enrolled people they are close to
        (nearest first), for the confirm step."""
        _check_label(label)
        faces = self._chosen_faces(self._reviewable(visit_ids), face_tokens)
        return faces, self.close_people(faces)

    def close_people(self, faces: list[FaceRef]) -> list[Closeness]:
        """Enrolled people whose gallery is on average within CLOSE_RATIO x the threshold of these faces."""
        current = self.store.load_current()
        vectors = [v for v in (self.review.embedding(f) for f in faces) if v is not None]
        if current is None or not vectors or not current.classifier.labels:
            return []
        classifier = current.classifier
        mean = classifier.person_distances(np.stack(vectors)).mean(axis=0)
        close = [Closeness(label, round(float(d), 3), classifier.threshold)
                 for label, d in zip(classifier.labels, mean) if d <= classifier.threshold * CLOSE_RATIO]
        return sorted(close, key=lambda c: c.distance)

    def enrol_strangers(self, label: str, face_tokens: list[str], visit_ids: list[str],
                        details: dict[str, Any] | None = None) -> StrangerEnrolment:
        """"This is First_Last": enrol the chosen faces of these unknown visits (added to the person's photos when
        they are known already) and mark the visits reviewed as that person; keep what undoes it."""
        _check_label(label)
        visits = self._reviewable(visit_ids)
        faces = self._chosen_faces(visits, face_tokens)
        current = self.store.load_current()
        classifier = current.classifier if current else None
        before = None
        if classifier is not None and label in classifier.labels:
            before = classifier.gallery[classifier.gallery_labels == classifier.labels.index(label)].copy()
        was_new = before is None and self.library().get(label) is None
        photos_before = {p.key for p in self.photos.list(label)}
        with tempfile.TemporaryDirectory(prefix="facegate-console-enrol-") as folder:
            paths = []
            for i, face in enumerate(faces):
                path = Path(folder) / f"face-{i:03d}.jpg"
                path.write_bytes(self.media.enrolment_photo(face.key, face.box_json))
                paths.append(path)
            result = self._enroll(label, paths, details, add=True)
        for visit in visits:
            set_review(self.visits_table, visit.visit_id, label)
        added = sorted({p.key for p in self.photos.list(label)} - photos_before)
        token = self.undos.keep(UndoRecord(label, result.version, was_new, before, added,
                                           [v.visit_id for v in visits], result.images_used))
        log.info("strangers enrolled", extra={"label": label, "faces": len(faces), "visits": len(visits),
                                              "version": result.version, "new_person": was_new})
        return StrangerEnrolment(result, token, len(visits))

    def undo_enrolment(self, token: str) -> UndoRecord:
        """Take back a stranger's enrolment: the person's gallery and photos as before (removed if they were new),
        their visits back to review. Refused once the model moved on (another enrolment since)."""
        record = self.undos.peek(token)
        if record is None:
            raise ConsoleError("nothing to undo: it was undone already, is older than 30 minutes, or the console "
                               "restarted (remove the person from the face library instead)")
        current = self.store.load_current()
        if current is None or current.version != record.version:
            raise ConsoleError(f"the model changed since that enrolment (now {current.version if current else 'none'}):"
                               f" remove or re-enrol {record.label} from the face library instead")
        self.undos.take(token)
        if record.was_new:
            remove_person(self.store, self.people_table, record.label, self.photos)
        else:
            restore_gallery(self.store, record.label, record.gallery_before)
            for key in record.photo_keys:
                if self.photos.owns(record.label, key):
                    self.s3.delete_object(Bucket=self.outputs.bucket, Key=key)
        for visit_id in record.visit_ids:
            set_review(self.visits_table, visit_id, "")
        log.info("stranger enrolment undone", extra={"label": record.label, "visits": len(record.visit_ids)})
        return record

    def ignore_strangers(self, visit_ids: list[str]) -> int:
        visits = self._reviewable(visit_ids)
        for visit in visits:
            set_review(self.visits_table, visit.visit_id, IGNORED)
        return len(visits)

    # ---- the face library -------------------------------------------------------------------------------------
    def library(self) -> Library:
        return load_library(self.store, self.people_table, self.photos)

    def person(self, label: str) -> tuple[LibraryEntry | None, list[StoredPhoto]]:
        if not is_label(label):
            return None, []
        entry = self.library().get(label)
        return entry, self.photos.list(label) if entry else []

    def photo(self, label: str, name: str) -> tuple[bytes, str]:
        key = self.photos.folder(label) + name
        if not self.photos.owns(label, key):
            raise ConsoleError("no such photo")
        return self.photos.read(key), "image/png" if name.endswith(".png") else "image/jpeg"

    def enrol_uploads(self, label: str, uploads: list[Upload], details: dict[str, Any] | None = None,
                      add: bool = False) -> EnrolmentResult:
        """Add a person, or replace (`add`: add to) their photos, from uploaded photos: a new model version."""
        _check_label(label)
        uploads = [u for u in uploads if u.body]
        if not uploads:
            raise ConsoleError("choose at least one photo")
        if len(uploads) > MAX_UPLOAD_PHOTOS:
            raise ConsoleError(f"at most {MAX_UPLOAD_PHOTOS} photos at once")
        with tempfile.TemporaryDirectory(prefix="facegate-console-upload-") as folder:
            paths = []
            for i, upload in enumerate(uploads):
                suffix = ".png" if upload.body.startswith(b"\x89PNG") else ".jpg"
                path = Path(folder) / f"upload-{i:03d}{suffix}"
                path.write_bytes(upload.body)
                paths.append(path)
            return self._enroll(label, paths, details, add=add)

    def _enroll(self, label: str, paths: list[Path], details: dict[str, Any] | None, add: bool) -> EnrolmentResult:
        from recognizer.face_library.enrolment import EnrolmentError

        try:
            return enroll(self.pipeline(), self.store, self.people_table, label, paths, _dynamo(details or {}),
                          photos=self.photos, add=add)
        except EnrolmentError as exc:
            raise ConsoleError(str(exc)) from exc

    def update_details(self, label: str, details: dict[str, Any]) -> None:
        if not is_label(label):
            raise ConsoleError("not a First_Last label")
        set_details(self.people_table, label, _dynamo(details))

    def remove(self, label: str) -> RemovalResult:
        if not is_label(label):
            raise ConsoleError("not a First_Last label")
        return remove_person(self.store, self.people_table, label, self.photos)


def _repeat(work: Callable[[], object], every_s: float, name: str, failure: str) -> threading.Thread:
    """Run `work` every `every_s` in a daemon thread; a failure is logged and tried again next time."""
    def loop() -> None:
        while True:
            try:
                work()
            except Exception:  # noqa: BLE001 - the stack may be briefly unreachable: try again later
                log.warning(failure, exc_info=True)
            time.sleep(every_s)
    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


def _check_label(label: str) -> None:
    if not is_label(label):
        raise ConsoleError("the name must be a first and a last name (e.g. Ada_Lovelace or Ada Lovelace): letters, "
                           "joined by an underscore or a space")


def _dynamo(value: Any) -> Any:
    """JSON values as DynamoDB takes them (floats as Decimal)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {str(k): _dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dynamo(v) for v in value]
    return value
