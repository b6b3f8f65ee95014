"""Footage requests on the device: the console asks for the clips of a time range; the device uploads those it still
keeps (an empty doorway's clips, kept in `.kept/` by the rolling budget: pi_app.recording.spool) as one bundle under
its own prefix, and answers.

Every `every_s` (120 s by default) the poller makes one small call (POST /footage-requests: the device's open
requests, usually none). Each request it has not answered is worked in steps, each saved before the next, so a
crash repeats at most the step in hand (the request also stays open on the stack until it is answered):
1. its record, `<spool>/.footage/<request-id>.json`, is written when the device first sees it;
2. once the range is over (clips still being recorded in it would be missed), the kept clips whose recording
   started in the range are written into one ZIP, the layout of a visit bundle (pi_app.recording.visit_bundles),
   and uploaded under the request's key `clips/<device>/<YYYY>/<MM>/<DD>/footage-<request-id>.zip` through the
   device's uploader; a failed upload is retried at the next poll, never dropped;
3. the record says `uploaded` (with its clips), then the answer goes to POST /footage-results (`uploaded`, or
   `nothing_kept` when no clip of the range is kept any more); a failed answer is sent again at the next poll.
The kept clips stay kept (the budget still deletes the oldest first): a second request for the same range finds them.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from facegate_contract import MAX_CLIP_BYTES, PRIVATE_DIR_MODE, is_visit_id
from facegate_contract.wire import NOTHING_KEPT, UPLOADED, FootageAsk, FootageRequestState, FootageResult
from pi_app.recording.clip_metadata import clip_metadata
from pi_app.recording.clip_names import clip_started_at
from pi_app.recording.spool import CLIP_FILE, Spool
from pi_app.recording.visit_bundles import BundleMember, write_bundle_zip
from pi_app.recording.durable_files import write_atomically
from pi_app.transport.service_errors import ServiceError

log = logging.getLogger(__name__)

FOOTAGE = ".footage"
DEFAULT_POLL_S = 120.0  # a request waits at most this long; each poll is a billed call
SETTLE_S = 2.0  # past a range's end (and its last clip's length): that clip is finished and kept by then
ANSWERED_KEPT = 64  # answered records remembered (a request listed again after a lost answer is answered again)
ALREADY_ANSWERED = "already_answered"  # the stack's 409: the request has another answer already
ZIP_OVERHEAD = 200  # bytes per member beyond its MP4 and comment (headers, central directory)


class FootageApi(Protocol):
    """The stack's footage routes (pi_app.transport.footage_client.ApiFootage)."""

    def open_requests(self) -> list[FootageAsk]: ...
    def answer(self, result: FootageResult) -> FootageRequestState: ...


class Uploader(Protocol):
    """The device's clip uploader (the API's presigned PUT, or S3 for a developer)."""

    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None: ...


@dataclass
class FootageRecord:
    """One footage request on the device: its range and key, and how far the device got."""

    request_id: str
    key: str
    from_at: float
    to_at: float
    attempts: int = 0  # uploads tried
    uploaded: bool = False  # the bundle is in S3 (or there was nothing to upload): `clips` says which
    clips: list[str] = field(default_factory=list)
    answered: bool = False  # the stack has the answer

    @property
    def status(self) -> str:
        """The answer to send once uploaded."""
        return UPLOADED if self.clips else NOTHING_KEPT


class FootageStore:
    """The `.footage/` folder of a spool: one record and (while it is uploaded) one ZIP per request."""

    def __init__(self, spool: Spool) -> None:
        self.root = spool.root / FOOTAGE
        self.root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        self.sync = spool.sync

    def _path(self, request_id: str) -> Path:
        return self.root / f"{request_id}.json"

    def zip_path(self, request_id: str) -> Path:
        """Where the request's ZIP is written before its upload."""
        return self.root / f"{request_id}.zip"

    def save(self, record: FootageRecord) -> None:
        """Write a record atomically and durably."""
        write_atomically(self._path(record.request_id), json.dumps(asdict(record)), self.sync)

    def load(self, request_id: str) -> FootageRecord | None:
        """The request's record; None when there is none or it cannot be read."""
        try:
            return FootageRecord(**json.loads(self._path(request_id).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def records(self) -> list[FootageRecord]:
        """Every readable record, oldest request first."""
        ids = sorted(p.stem for p in self.root.glob("*.json") if is_visit_id(p.stem))
        return [r for r in map(self.load, ids) if r is not None]

    def forget_old(self) -> None:
        """Keep the latest ANSWERED_KEPT answered records only."""
        answered = [r for r in self.records() if r.answered]
        for old in answered[:-ANSWERED_KEPT]:
            self._path(old.request_id).unlink(missing_ok=True)


class FootagePoller:
    """Polls the stack for this device's footage requests and answers each (see the module's steps)."""

    def __init__(self, spool: Spool, api: FootageApi, uploader: Uploader, *, every_s: float = DEFAULT_POLL_S,
                 clip_s: float = 0.5, clock: Callable[[], float] = time.time) -> None:
        self.spool = spool
        self.api = api
        self.uploader = uploader
        self.every_s = every_s
        self.clip_s = clip_s
        self.clock = clock
        self.store = FootageStore(spool)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the loop ---------------------------------------------------------------------------------------------
    def start(self) -> FootagePoller:
        """Poll in a background thread: at once (a restart resumes what it had in hand), then every `every_s`."""
        self._thread = threading.Thread(target=self._loop, name="footage-poller", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop polling; a request in hand is finished at the next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # never let a bug end the polling: say so, try again next time
                log.exception("footage poll failed")
            self._stop.wait(self.every_s)

    def tick(self) -> None:
        """One poll: the records in hand not answered, then the stack's open requests (one call)."""
        in_hand = [r for r in self.store.records() if not r.answered]
        for record in in_hand:
            self._work(record)
        try:
            asks = self.api.open_requests()
        except ServiceError as exc:
            log.warning("footage requests not read: tried again at the next poll", extra={"error": str(exc)[:300]})
            return
        for ask in asks:
            if ask.request_id in {r.request_id for r in in_hand}:
                continue  # worked on above: a failed step waits for the next poll
            known = self.store.load(ask.request_id)
            if known is None:
                record = FootageRecord(ask.request_id, ask.key, ask.from_at, ask.to_at)
                self.store.save(record)
                log.info("footage requested", extra={"request_id": ask.request_id, "from_at": ask.from_at,
                                                     "to_at": ask.to_at})
            else:
                record = known
                record.answered = False  # still open on the stack: an answer it has not got (lost on the way)
            self._work(record)
        self.store.forget_old()

    # ---- one request ------------------------------------------------------------------------------------------
    def _work(self, record: FootageRecord) -> None:
        if self.clock() < record.to_at + self.clip_s + SETTLE_S:
            return  # the range is not over: its last clips are still being recorded
        if not record.uploaded and not self._upload(record):
            return
        self._answer(record)

    def members(self, from_at: float, to_at: float) -> list[BundleMember]:
        """The kept clips whose recording started in [from_at, to_at], oldest first, up to one upload's size."""
        members: list[BundleMember] = []
        size = 0
        for clip in self.spool.kept_clips():
            if not from_at - 1.0 <= clip_started_at(clip) <= to_at + 1.0:  # the id's stamp: a cheap first look
                continue
            try:
                state = self.spool.load_kept(clip)
                path = self.spool.kept_folder(clip) / CLIP_FILE
                clip_bytes = path.stat().st_size
            except (OSError, ValueError, TypeError):
                continue  # deleted by the budget meanwhile, or unreadable: not kept
            if not from_at <= state.started_at <= to_at:
                continue
            metadata = clip_metadata(state)
            size += clip_bytes + len(json.dumps(metadata)) + ZIP_OVERHEAD
            if size > MAX_CLIP_BYTES:
                log.warning("footage range holds more than one upload: the rest left out",
                            extra={"from_at": from_at, "to_at": to_at, "clips": len(members)})
                break
            members.append(BundleMember(clip, path, metadata))
        return members

    def _upload(self, record: FootageRecord) -> bool:
        """Bundle and upload the kept clips of the range; True once done (or nothing to do), False to retry."""
        members = self.members(record.from_at, record.to_at)
        if members:
            zip_path = self.store.zip_path(record.request_id)
            record.attempts += 1
            self.store.save(record)
            try:
                write_bundle_zip(zip_path, members, self.store.sync)
                self.uploader.upload(zip_path, record.key, {"footage-request": record.request_id,
                                                            "clips": str(len(members))})
            except (OSError, ServiceError) as exc:  # a clip deleted by the budget, or the upload: next poll
                log.warning("footage bundle not uploaded: tried again at the next poll", extra={
                    "request_id": record.request_id, "attempts": record.attempts, "error": str(exc)[:300]})
                return False
            size = zip_path.stat().st_size
            log.info("footage bundle uploaded", extra={"request_id": record.request_id, "key": record.key,
                                                       "clips": len(members), "bytes": size,
                                                       "attempts": record.attempts})
        record.uploaded, record.clips = True, [m.clip for m in members]
        self.store.save(record)  # before the ZIP goes: a restart answers, never uploads again
        self.store.zip_path(record.request_id).unlink(missing_ok=True)
        return True

    def _answer(self, record: FootageRecord) -> None:
        result = FootageResult(request_id=record.request_id, status=record.status,  # type: ignore[arg-type]
                               key=record.key if record.clips else None, clips=record.clips)
        state: FootageRequestState | None = None
        try:
            state = self.api.answer(result)
        except ServiceError as exc:
            if exc.error != ALREADY_ANSWERED:  # answered otherwise before (an earlier run): nothing left to say
                log.warning("footage answer not sent: tried again at the next poll",
                            extra={"request_id": record.request_id, "error": str(exc)[:300]})
                return
        record.answered = True
        self.store.save(record)
        log.info("footage request answered", extra={"request_id": record.request_id, "status": record.status,
                                                    "clips": len(record.clips),
                                                    "state": state.status if state else "answered before"})
