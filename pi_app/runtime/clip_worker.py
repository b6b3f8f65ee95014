"""The work on one clip: recognise its chosen frame, then upload it with the result as metadata.

Every step is saved to the clip's state before the next, so a crash repeats at most the step in hand.
The worker's gates are the only place calls are retried (clients make one attempt per call); while a service
is failing, one worker at a time probes it (RetryGate.attempt). Rules, by what a call ends in
(pi_app.transport.service_errors):
- refused (a 4xx about the request): final for recognition (`refused`; the clip is still uploaded); an upload
  refused is tried again after the long backoff, since a clip is never dropped;
- auth rejected (401/403): the clip stays pending, `auth_failed` is emitted and the stage's gate stays shut
  for the long `auth_backoff`;
- throttled (429): `throttled` is emitted, the gate stays shut for the backoff or the service's Retry-After;
- unavailable (connection error, timeout, 5xx) or anything unexpected: `failure`, retried after the backoff
  (or Retry-After on 503).
A clip where nothing moved while no visit is open, or right after a clip answered with nobody in it, is not
recognised (`skipped_still`, the motion gate; uploaded unless the policy says otherwise). A clip of a decided,
acted-on visit still showing the face(s) of the visit's last recognised clip is not sent either (`tracked`,
pi_app.visits.tracking_skip): it carries that clip's answer. A clip older than `stale_after_s` is not recognised
any more (`skipped_stale`) but is still uploaded:
no wait for the recognition service ever holds up its upload past that. Uploads are retried until they succeed.
Under the `visits` upload policy (pi_app.recording.upload_policy) a clip of an empty doorway is not uploaded but
kept on the device (`kept`, the spool's `.kept/`); a clip of a visit waits in the spool (`awaiting_bundle`) for
its visit's bundle, one ZIP uploaded once the visit has ended (pi_app.runtime.visit_bundler), and the kept clips
of the policy's margin before it are brought back to wait with it. A clip an alert links to is uploaded alone at
once, as is every clip under `all`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from facegate_contract.device_events import (AuthFailed, ClipKept, ClipRecognition, ClipUploaded, DeviceEvent,
                                             ServiceTrouble, StageFailed, Throttled)
from pi_app.transport.backoff import Backoff
from pi_app.recording.clip_metadata import clip_metadata
from pi_app.recording.clip_state import (ALONE, AWAITING_BUNDLE, KEPT_LOCAL, REFUSED, SKIPPED_NO_FRAME,
                                         SKIPPED_STALE, UPLOADED, WANTED, ClipState)
from pi_app.recording.clip_video import frame_of
from pi_app.recording.image_encoding import decode_rgb, encode_jpeg
from pi_app.recording.motion_gate import MotionPolicy, mark_still, should_recognise
from pi_app.recording.upload_policy import UploadPolicy, wants_upload
from pi_app.transport.recognize_client import Recognition
from pi_app.transport.retry_gate import RetryGate
from pi_app.transport.service_errors import ServiceAuthRejected, ServiceError, ServiceRefused, ServiceThrottled
from pi_app.recording.spool import CLIP_FILE, FRAME_FILE, Spool
from pi_app.visits.tracking_skip import TrackingSkip

log = logging.getLogger(__name__)

Emit = Callable[[DeviceEvent], None]
RECOGNIZE, UPLOAD = "recognize", "upload"
KEEP, SEND_ALONE, BUNDLE = "keep", "alone", "bundle"  # where a recognised clip goes (ClipWorker._route)
RECENT_KEPT = 64  # kept clips remembered for the margin before a visit (a few seconds' worth, with a backlog)
# A revoked key or a removed device needs a person: probe now and then, not every few seconds.
DEFAULT_AUTH_BACKOFF = Backoff(base_s=60.0, max_s=900.0, jitter=0.5)


class Recognizer(Protocol):
    """What the worker needs of pi_app.transport.recognize_client.RecognizeClient."""

    def recognize(self, frame: bytes, content_type: str = "image/jpeg", clip_key: str = "") -> Recognition:
        """Recognise one encoded frame; raises a pi_app.transport.service_errors.ServiceError when it cannot."""
        ...


class ClipUploader(Protocol):
    """What the worker needs of pi_app.transport.s3_uploader.S3ClipUploader."""

    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        """Store the file under `key`; raises on failure (a pi_app.transport.service_errors.ServiceError when it can tell why)."""
        ...


def _error_text(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:300]


class ClipWorker:
    """Moves one clip forward as far as it can go now; safe to call again after a failure or a restart."""

    def __init__(self, spool: Spool, recognizer: Recognizer, uploader: ClipUploader, emit: Emit, *,
                 stale_after_s: float = 30.0, clock: Callable[[], float] = time.time,
                 recognize_gate: RetryGate | None = None, upload_gate: RetryGate | None = None,
                 auth_backoff: Backoff = DEFAULT_AUTH_BACKOFF, motion: MotionPolicy = MotionPolicy(enabled=False),
                 visit_open: Callable[[float], bool] = lambda at: False,
                 empty_before: Callable[[str], bool] = lambda clip: False,
                 appearance: Callable[[str, list[bytes | None]], None] | None = None,
                 upload_policy: UploadPolicy = UploadPolicy(mode="all"),
                 alerted: Callable[[str], bool] = lambda key: False,
                 requeue: Callable[[str], None] | None = None, tracking: TrackingSkip | None = None,
                 bundle_accepts: Callable[[float], bool] | None = None) -> None:
        """`upload_policy`: which clips go to S3 (the default here uploads all: the device app passes its own);
        `alerted(key)`: an alert links to that clip (so it is uploaded alone whatever the policy); `requeue`: how a
        kept clip brought back for a visit's margin is worked on (the app's queue; None: uploaded at once here);
        `tracking`: the skip of clips of a decided visit showing the same face(s) (None: every clip is sent);
        `bundle_accepts(started_at)`: whether a visit's clip recorded then may still wait for its visit's bundle
        (pi_app.runtime.visit_bundler; None: no bundles, a visit's clips go up alone)."""
        self.spool = spool
        self.recognizer = recognizer
        self.uploader = uploader
        self.emit = emit
        self.stale_after_s = stale_after_s
        self.clock = clock
        self.recognize_gate = recognize_gate or RetryGate(Backoff(), clock)
        self.upload_gate = upload_gate or RetryGate(Backoff(), clock)
        self.auth_backoff = auth_backoff
        self.motion = motion  # the motion gate: skip recognising clips where nothing moves
        self.visit_open = visit_open  # is a visit open at this recording time (then every clip is recognised)
        self.empty_before = empty_before  # was the clip just before this one answered with nobody in it
        # Where the answer's face descriptors go (the visit tracker, in memory): biometric, so never in the
        # clip's state or its event.
        self.appearance = appearance
        self.upload_policy = upload_policy
        self.alerted = alerted
        self.requeue = requeue
        self.tracking = tracking
        self.bundle_accepts = bundle_accepts
        self._recent_kept: deque[tuple[str, float]] = deque(maxlen=RECENT_KEPT)  # (clip, recorded_at)
        self._kept_lock = threading.Lock()  # workers are threads

    def process(self, clip: str) -> float | None:
        """Work on `clip`; returns None when it is finished, else the clock time to try again."""
        if not self.spool.folder(clip).exists():
            return None  # finished meanwhile (its visit's bundle took it), or moved to `.kept/`
        state = self.spool.resume(clip)
        if state is None:  # no video left to upload (moved aside), or a state that cannot be read or rebuilt
            return None
        if not state.recognition.final:
            retry_at = self._recognise(state)
            if retry_at is not None:
                return retry_at
        if not state.upload.final:
            if state.upload.status == AWAITING_BUNDLE:
                return None  # its visit's bundle finishes it (pi_app.runtime.visit_bundler)
            route = self._route(state)
            if route == KEEP:
                self._keep(state)
                return None
            if route == BUNDLE:
                state.upload.status = AWAITING_BUNDLE  # saved: a restart finds it still waiting
                self.spool.save(state)
                return None
            retry_at = self._upload(state)
            if retry_at is not None:
                return retry_at
        self.spool.finish(state)
        return None

    def _recognise(self, state: ClipState) -> float | None:
        record = state.recognition
        now = self.clock()
        stale_at = state.recorded_at + self.stale_after_s
        if now > stale_at:
            record.status = SKIPPED_STALE
            self.spool.save(state)
            self._emit_recognition(state, age_s=round(now - state.recorded_at, 1))
            return None
        if not should_recognise(state, self.visit_open(state.recorded_at), self.motion,
                                after_empty=self.empty_before(state.clip)):
            mark_still(state, self.motion)  # nothing moved and nobody is at the door: no request (the clip is kept)
            self.spool.save(state)
            self._emit_recognition(state, motion=state.motion)
            return None
        if self._tracked(state):
            return None
        with self.recognize_gate.attempt() as wait_until:
            if wait_until is not None:
                return min(wait_until, stale_at + 0.001)  # wait for the service, or to turn stale
            frame = self._frame(state)
            if frame is None:  # permanent: no retry can bring the frame back
                record.status, record.error = SKIPPED_NO_FRAME, "frame.jpg lost and not readable from the clip"
                self.spool.save(state)
                self._emit_recognition(state)
                return None
            record.attempts += 1
            try:
                answer = self.recognizer.recognize(frame, "image/jpeg", clip_key=state.key)
            except ServiceRefused as exc:
                self.recognize_gate.succeeded()  # the service answered: it is up, this frame is just refused
                record.status, record.error = REFUSED, _error_text(exc)
                self.spool.save(state)
                self._emit_recognition(state)
                return None
            except Exception as exc:  # unavailable, throttled, auth rejected, or unexpected: try again later
                record.error = _error_text(exc)
                self.spool.save(state)
                retry_at = self.note_failure(RECOGNIZE, state.clip, record.attempts, exc, self.recognize_gate)
                return min(retry_at, stale_at + 0.001)  # a long wait must not hold up the upload of a stale clip
            self.recognize_gate.succeeded()
        record.record_answer(answer)
        self.spool.save(state)
        if self.tracking is not None and answer.faces:  # before its event: the tracker places it, then it may serve
            rgb = decode_rgb(frame)
            if rgb is not None:
                self.tracking.remember(state.clip, state.recorded_at, rgb, answer.faces, record.confidence,
                                       record.model_version)
        if self.appearance is not None:
            self.appearance(state.clip, [face.descriptor for face in answer.faces])
        self._emit_recognition(state)
        return None

    def _tracked(self, state: ClipState) -> bool:
        """Record the clip as `tracked` (not sent) when its visit is decided and done with and the same face(s)
        are still there; False: send it."""
        if self.tracking is None or self.tracking.candidate(state.clip, state.recorded_at) is None:
            return False  # cheap first: no frame is read while no visit could let the clip go unsent
        frame = self._frame(state)
        rgb = decode_rgb(frame) if frame else None
        tracked = self.tracking.check(state.clip, state.recorded_at, rgb) if rgb is not None else None
        if tracked is None:
            return False
        state.recognition.record_tracked(tracked.faces, tracked.confidence, tracked.model_version,
                                         tracked.tracked_from)
        self.spool.save(state)
        if self.appearance is not None:  # the reference's descriptors: a different person's answer still splits
            self.appearance(state.clip, tracked.descriptors)
        self._emit_recognition(state)
        return True

    def _frame(self, state: ClipState) -> bytes | None:
        """The clip's chosen frame: frame.jpg or, when that is lost or empty, the same frame taken again from
        clip.mp4; None when neither can be read."""
        folder = self.spool.folder(state.clip)
        try:
            frame = (folder / FRAME_FILE).read_bytes()
        except OSError:
            frame = b""
        if frame:
            return frame
        rgb = frame_of(folder / CLIP_FILE, state.frame_index) if state.frame_index >= 0 else None
        if rgb is None:
            return None
        log.warning("frame taken again from the clip", extra={"clip": state.clip, "frame_index": state.frame_index})
        return encode_jpeg(rgb)

    def _route(self, state: ClipState) -> str:
        """Upload alone now, wait for the visit's bundle, or keep on the device (and bring back the margin before a
        visit's clip)."""
        policy = self.upload_policy
        if policy.mode == "all" or state.upload.status == ALONE or self.alerted(state.key):
            return SEND_ALONE  # someone needs it now (an alert's link), or no bundle will take it
        if state.upload.status == WANTED:  # brought back for a visit's margin
            return self._bundle_or_alone(state)
        in_visit = self.visit_open(state.recorded_at)
        if not wants_upload(state, policy, in_visit=in_visit, alerted=False):
            return KEEP
        if in_visit or state.recognition.names:
            self._bring_back_margin(state.started_at - policy.margin_s, state.started_at)
        # A face no visit holds yet (held while the clips before it are answered) is not sure to fall in a bundle's
        # window: it goes alone, like a clip nobody looked at.
        return self._bundle_or_alone(state) if in_visit else SEND_ALONE

    def send_alone(self, clip: str) -> bool:
        """Take a clip out of its visit's bundle to be uploaded alone (an alert now links to it); True when it was
        waiting for the bundle (queue it again then)."""
        try:
            state = self.spool.load(clip)
        except (OSError, ValueError, TypeError):
            return False  # not in the spool (finished, kept) or unreadable: nothing waits
        if state.upload.status != AWAITING_BUNDLE:
            return False
        state.upload.status = ALONE
        self.spool.save(state)
        log.info("clip taken out of its visit's bundle: an alert links to it", extra={"clip": clip})
        return True

    def _bundle_or_alone(self, state: ClipState) -> str:
        if self.bundle_accepts is not None and self.bundle_accepts(state.started_at):
            return BUNDLE
        return SEND_ALONE

    def _keep(self, state: ClipState) -> None:
        state.upload.status = KEPT_LOCAL
        size = (self.spool.folder(state.clip) / CLIP_FILE).stat().st_size
        evicted = self.spool.keep(state)
        with self._kept_lock:
            self._recent_kept.append((state.clip, state.recorded_at))
        self.emit(ClipKept(clip=state.clip, key=state.key, bytes=size, recognition=state.recognition.status,
                           evicted=evicted))
        if self.visit_open(state.recorded_at):  # another worker's face began a visit meanwhile: it reaches this clip
            self._bring_back_margin(state.recorded_at - 0.001, state.recorded_at)

    def _bring_back_margin(self, since: float, until: float) -> None:
        """Upload the kept clips recorded between `since` and `until` (the margin before a visit's clip)."""
        with self._kept_lock:
            margin = [clip for clip, at in self._recent_kept if since < at <= until + 0.001]
            self._recent_kept = deque(((c, a) for c, a in self._recent_kept if c not in margin), maxlen=RECENT_KEPT)
        for clip in margin:
            state = self.spool.promote(clip)
            if state is None:
                continue
            log.info("kept clip brought back for a visit's margin", extra={"clip": clip})
            if self.requeue is not None:
                self.requeue(clip)
            else:
                self.process(clip)  # uploaded alone, or left waiting for its visit's bundle

    def _upload(self, state: ClipState) -> float | None:
        record = state.upload
        path = self.spool.folder(state.clip) / CLIP_FILE
        with self.upload_gate.attempt() as wait_until:
            if wait_until is not None:
                return wait_until
            record.attempts += 1
            try:
                self.uploader.upload(path, state.key, clip_metadata(state))
            except Exception as exc:  # never drop the clip: every outcome is retried, only the wait differs
                record.error = _error_text(exc)
                self.spool.save(state)
                return self.note_failure(UPLOAD, state.clip, record.attempts, exc, self.upload_gate)
            self.upload_gate.succeeded()
        record.status, record.error = UPLOADED, ""
        self.spool.save(state)
        self.emit(ClipUploaded(clip=state.clip, key=state.key, bytes=path.stat().st_size,
                               recognition=state.recognition.status, attempts=record.attempts))
        return None

    def note_failure(self, stage: str, subject: str, attempt: int, exc: Exception, gate: RetryGate) -> float:
        """Hold back the stage (or just this clip or bundle, `subject`) as the error calls for, say so; returns when
        to try again."""
        status, advice = (exc.status, exc.retry_after_s) if isinstance(exc, ServiceError) else (None, None)
        kind: type[ServiceTrouble]
        if isinstance(exc, ServiceRefused):  # only uploads get here: the service is up, only this clip waits
            gate.succeeded()
            kind, retry_at = StageFailed, self.clock() + self.auth_backoff.delay(attempt)
        elif isinstance(exc, ServiceAuthRejected):
            kind, retry_at = AuthFailed, gate.failed(backoff=self.auth_backoff)
        else:
            kind = Throttled if isinstance(exc, ServiceThrottled) else StageFailed
            retry_at = gate.failed(retry_after_s=advice)
        event = kind(clip=subject, stage=stage, attempt=attempt, error=_error_text(exc),
                     retry_in_s=round(max(0.0, retry_at - self.clock()), 2), status=status, retry_after_s=advice)
        log.warning("%s failed; will retry", stage, extra={"kind": event.name, "clip": subject, "stage": stage,
                                                            "attempt": attempt, "error": event.error,
                                                            "retry_in_s": event.retry_in_s, "status": status,
                                                            "retry_after_s": advice})
        self.emit(event)
        return retry_at

    def _emit_recognition(self, state: ClipState, age_s: float | None = None, motion: float | None = None) -> None:
        record = state.recognition
        self.emit(ClipRecognition(clip=state.clip, key=state.key, recorded_at=state.recorded_at, status=record.status,
                                  names=list(record.names), faces=list(record.faces), confidence=record.confidence,
                                  latency_ms=record.latency_ms, server_ms=record.server_ms,
                                  model_version=record.model_version, attempts=record.attempts, error=record.error,
                                  age_s=age_s, motion=motion, tracked_from=record.tracked_from or None))
