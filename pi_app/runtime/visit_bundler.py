"""A visit's clips to S3 as one object: when the visit ends, its clips go up in one uncompressed ZIP (one upload URL
request and one PUT) instead of one object each. The `visits` upload policy's way (pi_app.recording.upload_policy).

How a bundle comes about, each step saved before the next (a crash repeats at most the step in hand):
1. the worker parks a visit's clip in the spool, `awaiting_bundle` (pi_app.runtime.clip_worker);
2. `visit_ended` (an event sink): the bundle's record is written (pi_app.recording.visit_bundles) and its job queued;
3. the job (`process`, run by the app's workers like a clip): it takes every clip of the visit's window: those
   awaiting, and the kept clips of the margin before and the tail after (brought back from `.kept/`); while one of
   them is still in recognition it waits (WAIT_FOR_CLIPS_S at most); then it writes the ZIP and uploads it through
   the worker's uploader and upload gate (a failure is retried like a clip's upload: never dropped);
4. once in S3: the record says so (with its members), `bundle_uploaded` is emitted, the clips are finished.
A restart re-queues the records not done, finishes the clips of done ones, and sends alone the waiting clips no
bundle will take (their visit never ended: a power cut, its tracker lost with the memory). A clip of a visit whose
bundle is already up (a late one) goes alone too (`accepts`), so a bundle is never replaced by a smaller one.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from facegate_contract import bundle_key
from facegate_contract.device_events import BundleUploaded, DeviceEvent, VisitEnded
from pi_app.recording.clip_metadata import clip_metadata
from pi_app.recording.clip_names import clip_started_at
from pi_app.recording.clip_state import ALONE, AWAITING_BUNDLE, BUNDLED, PENDING, WANTED, ClipState
from pi_app.recording.spool import CLIP_FILE, Spool
from pi_app.recording.visit_bundles import DONE_KEPT, BundleMember, BundleRecord, BundleStore
from pi_app.runtime.clip_worker import ClipWorker

log = logging.getLogger(__name__)

BUNDLE_ITEM = "bundle:"  # a work queue item naming a bundle job, not a clip (clip ids start with a digit)
SETTLE_S = 1.0  # after the visit ends: the worker of its last clip is parking it meanwhile
WAIT_FOR_CLIPS_S = 60.0  # past the device's stale_after_s: a clip still in recognition then goes up alone later
RECHECK_S = 1.0
EDGE_S = 0.01  # clip start times are rounded to the millisecond
ID_SLACK_S = 5.0  # a clip id's stamp is near its recording start: states are read only within this of a window


def bundle_item(visit_id: str) -> str:
    """The work queue item of a visit's bundle job."""
    return BUNDLE_ITEM + visit_id


def is_bundle_item(item: str) -> bool:
    """True for a work queue item that names a bundle job."""
    return item.startswith(BUNDLE_ITEM)


class VisitBundler:
    """Bundles each ended visit's clips (an event sink, and the jobs it queues)."""

    def __init__(self, spool: Spool, worker: ClipWorker, emit: Callable[[DeviceEvent], None], *, device_id: str,
                 clip_s: float, margin_s: float, end_after_s: float, enqueue: Callable[[str, float | None], None],
                 store: BundleStore | None = None, clock: Callable[[], float] = time.time) -> None:
        """`clip_s`, `margin_s`, `end_after_s`: the clip length, the upload policy's margin and the visits' tail, which
        make a visit's window; `enqueue(item, due_at)`: the app's work queue."""
        self.spool = spool
        self.worker = worker
        self.emit = emit
        self.device_id = device_id
        self.clip_s = clip_s
        self.margin_s = margin_s
        self.end_after_s = end_after_s
        self.enqueue = enqueue
        self.store = store or BundleStore(spool.root, spool.sync)
        self.clock = clock
        self._done = [r for r in self.store.records() if r.uploaded]

    # ---- the sink --------------------------------------------------------------------------------------------
    def handle(self, event: DeviceEvent) -> None:
        """On `visit_ended`: write (or widen) the visit's bundle record and queue its job."""
        if not isinstance(event, VisitEnded):
            return
        # By recording start time (a clip starts clip_s before it is recorded): every clip the visit reaches
        # (recorded within end_after_s of its faces: the worker parks those), and the kept ones of the margin before
        # its first face clip.
        first_started = event.first_at - self.clip_s
        since = first_started - max(self.margin_s, self.end_after_s) - EDGE_S
        until = event.last_at + self.end_after_s - self.clip_s + EDGE_S
        kept_since = first_started - self.margin_s - EDGE_S
        record = self.store.load(event.visit_id)
        if record is not None and record.uploaded:
            return  # ended again after a late clip: that clip goes alone (`accepts`)
        if record is None:
            record = BundleRecord(event.visit_id, bundle_key(self.device_id, event.visit_id), since, until, kept_since)
        record.since, record.until = min(record.since, since), max(record.until, until)
        record.kept_since = min(record.kept_since, kept_since)
        record.clips = sorted(set(record.clips) | set(event.clips))
        record.ended_at = self.clock()
        self.store.save(record)
        self.enqueue(bundle_item(event.visit_id), self.clock() + SETTLE_S)

    def accepts(self, started_at: float) -> bool:
        """False when a clip that started then belongs to a visit whose bundle is already in S3."""
        return not any(record.covers(started_at) for record in self._done)

    # ---- start and stop ---------------------------------------------------------------------------------------
    def resume(self) -> list[str]:
        """At start, before the workers: finish the clips of bundles already up, send alone the waiting clips no
        bundle record covers (their visit never ended: the app queues them as unfinished); returns the jobs to
        queue."""
        records = self.store.records()
        for record in records:
            if record.uploaded:
                self._finish_members(record)
        self._release_orphans()
        return [bundle_item(r.visit_id) for r in records if not r.uploaded]

    def _release_orphans(self) -> list[str]:
        """Send alone the clips waiting for a bundle none will make: no bundle record to come covers them and no
        visit still open reaches them (a visit that never ended in the last run; a late clip of a visit already
        bundled); returns them, to be queued."""
        pending = [r for r in self.store.records() if not r.uploaded]
        released = []
        for clip in self.spool.clips():
            state = self._load(clip)
            if state is None or state.upload.status != AWAITING_BUNDLE:
                continue
            if any(r.covers(state.started_at) for r in pending) or self.worker.visit_open(state.recorded_at):
                continue
            state.upload.status = ALONE
            self.spool.save(state)
            released.append(clip)
            log.warning("clip waited for a bundle no visit will make: uploaded alone", extra={"clip": clip})
        return released

    def drain(self, timeout_s: float) -> bool:
        """At exit, the workers stopped: do the bundles not done yet (the visits shutdown ended) for up to
        `timeout_s`; False if some are left for the next start."""
        deadline = time.monotonic() + timeout_s
        items = [bundle_item(r.visit_id) for r in self.store.records() if not r.uploaded]
        for item in items + self._release_orphans():  # then the clips no bundle takes, alone
            process = self.process if is_bundle_item(item) else self.worker.process
            while (retry_at := process(item)) is not None:
                wait = max(0.05, retry_at - self.clock())
                if time.monotonic() + wait > deadline:
                    return False
                time.sleep(wait)
        return True

    # ---- a job ------------------------------------------------------------------------------------------------
    def process(self, item: str) -> float | None:
        """Work on a bundle job; returns None when it is done (or gone), else the clock time to try again."""
        record = self.store.load(item[len(BUNDLE_ITEM):])
        if record is None:
            return None
        if record.uploaded:
            self._finish_members(record)
            return None
        members, waiting = self._gather(record)
        if waiting and self.clock() < record.ended_at + WAIT_FOR_CLIPS_S:
            return self.clock() + RECHECK_S
        if not members:
            log.info("visit bundle has no clip waiting: none made", extra={"visit_id": record.visit_id,
                                                                            "waiting": len(waiting)})
            self._uploaded(record, [])
            retry_at = None
        else:
            retry_at = self._upload(record, members)
        if retry_at is None:  # this visit's bundle is done: a clip left waiting now waits for nothing
            for clip in self._release_orphans():
                self.enqueue(clip, None)
        return retry_at

    def _gather(self, record: BundleRecord) -> tuple[list[ClipState], list[str]]:
        """The clips of the visit's window waiting for it (kept ones brought back first), and those not ready yet."""
        for clip in self.spool.kept_clips():
            started_at = self._kept_start(clip) if self._near(record, clip) else None
            if (started_at is not None and record.covers(started_at) and started_at >= record.kept_since
                    and not self._anothers(record, clip, started_at)):
                state = self.spool.promote(clip)
                if state is not None:
                    state.upload.status = AWAITING_BUNDLE
                    self.spool.save(state)
        members, waiting = [], []
        for clip in self.spool.clips():
            state = self._load(clip) if self._near(record, clip) else None
            if state is None or not record.covers(state.started_at):
                continue
            if state.upload.status == AWAITING_BUNDLE and not self._anothers(record, clip, state.recorded_at):
                members.append(state)
            elif state.upload.status in (PENDING, WANTED) and state.upload.attempts == 0:
                waiting.append(clip)  # still in recognition, or just answered: it may join
        return members, waiting

    def _anothers(self, record: BundleRecord, clip: str, at: float) -> bool:
        """True when a clip of this visit's window is not one of its faces and a visit still open reaches it (two
        visits close together, or one split in two): that visit's bundle takes it when it ends."""
        return clip not in record.clips and self.worker.visit_open(at)

    def _near(self, record: BundleRecord, clip: str) -> bool:
        """A cheap first look by the time in the clip's id (its state, read only then, says exactly)."""
        stamp = clip_started_at(clip)
        return record.since - ID_SLACK_S <= stamp <= record.until + ID_SLACK_S

    def _kept_start(self, clip: str) -> float | None:
        try:
            return self.spool.load_kept(clip).started_at
        except (OSError, ValueError, TypeError):
            return None

    def _upload(self, record: BundleRecord, members: list[ClipState]) -> float | None:
        worker = self.worker
        path = self.store.write_zip(record.visit_id, [
            BundleMember(s.clip, self.spool.folder(s.clip) / CLIP_FILE, clip_metadata(s)) for s in members])
        with worker.upload_gate.attempt() as wait_until:
            if wait_until is not None:
                return wait_until
            record.attempts += 1
            self.store.save(record)
            try:
                worker.uploader.upload(path, record.key, {"visit": record.visit_id, "clips": str(len(members))})
            except Exception as exc:  # never drop a bundle: every outcome is retried, only the wait differs
                return worker.note_failure("bundle", record.visit_id, record.attempts, exc, worker.upload_gate)
            worker.upload_gate.succeeded()
        size = path.stat().st_size
        self._uploaded(record, [s.clip for s in members])
        self.emit(BundleUploaded(visit_id=record.visit_id, key=record.key, clips=[s.clip for s in members],
                                 keys=[s.key for s in members], bytes=size, attempts=record.attempts))
        self._finish_members(record)
        self.store.finished(record)
        return None

    def _uploaded(self, record: BundleRecord, clips: list[str]) -> None:
        record.uploaded, record.members = True, clips
        self.store.save(record)  # before the clips are finished: a restart finishes them, never bundles them again
        self._done = ([r for r in self._done if r.visit_id != record.visit_id] + [record])[-DONE_KEPT:]

    def _finish_members(self, record: BundleRecord) -> None:
        for clip in record.members:
            state = self._load(clip)
            if state is not None and state.upload.status == AWAITING_BUNDLE:
                state.upload.status = BUNDLED
                self.spool.finish(state)

    def _load(self, clip: str) -> ClipState | None:
        try:
            return self.spool.load(clip) if self.spool.folder(clip).exists() else None
        except (OSError, ValueError, TypeError):
            return None  # unreadable: the worker rebuilds it and sends it alone
