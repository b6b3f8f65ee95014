"""The work on one clip: recognise its chosen frame, then upload it with the result as metadata.

Every step is saved to the clip's state before the next, so a crash repeats at most the step in hand.
Rules: a 4xx answer is final (recorded as `refused`; the clip is still uploaded); connection errors and
5xx are retried later with backoff; a clip older than `stale_after_s` is not recognised any more
(`skipped_stale`) but is still uploaded. Uploads are retried until they succeed: no clip is dropped.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pi_app.backoff import Backoff, ServiceGate
from pi_app.clip_metadata import clip_metadata
from pi_app.clip_state import REFUSED, SKIPPED_STALE, UPLOADED, ClipState
from pi_app.recognize_client import Recognition, RecognizeRefused
from pi_app.spool import CLIP_FILE, FRAME_FILE, Spool

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]


class Recognizer(Protocol):
    """What the worker needs of pi_app.recognize_client.RecognizeClient."""

    def recognize(self, frame: bytes, content_type: str = "image/jpeg", clip_key: str = "") -> Recognition:
        """Recognise one encoded frame; raises RecognizeRefused (4xx) or RecognizeUnavailable."""
        ...


class ClipUploader(Protocol):
    """What the worker needs of pi_app.s3_uploader.S3ClipUploader."""

    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        """Store the file under `key`; raises on failure."""
        ...


def _error_text(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:300]


class ClipWorker:
    """Moves one clip forward as far as it can go now; safe to call again after a failure or a restart."""

    def __init__(self, spool: Spool, recognizer: Recognizer, uploader: ClipUploader, emit: Emit, *,
                 stale_after_s: float = 30.0, clock: Callable[[], float] = time.time,
                 recognize_gate: ServiceGate | None = None, upload_gate: ServiceGate | None = None) -> None:
        self.spool = spool
        self.recognizer = recognizer
        self.uploader = uploader
        self.emit = emit
        self.stale_after_s = stale_after_s
        self.clock = clock
        self.recognize_gate = recognize_gate or ServiceGate(Backoff(), clock)
        self.upload_gate = upload_gate or ServiceGate(Backoff(), clock)

    def process(self, clip: str) -> float | None:
        """Work on `clip`; returns None when it is finished, else the clock time to try again."""
        state = self.spool.load(clip)
        if not state.recognition.final:
            retry_at = self._recognise(state)
            if retry_at is not None:
                return retry_at
        if not state.upload.final:
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
        if not self.recognize_gate.is_open():
            return min(self.recognize_gate.reopens_at, stale_at + 0.001)  # wait for the service, or to turn stale
        record.attempts += 1
        try:
            frame = (self.spool.folder(state.clip) / FRAME_FILE).read_bytes()
            answer = self.recognizer.recognize(frame, "image/jpeg", clip_key=state.key)
        except RecognizeRefused as exc:
            self.recognize_gate.succeeded()  # the service answered: it is up, this frame is just refused
            record.status, record.error = REFUSED, _error_text(exc)
            self.spool.save(state)
            self._emit_recognition(state)
            return None
        except Exception as exc:  # RecognizeUnavailable, or anything unexpected: try again later
            record.error = _error_text(exc)
            self.spool.save(state)
            retry_at = self._failed("recognize", state, record.attempts, record.error, self.recognize_gate)
            return min(retry_at, stale_at + 0.001)  # a long backoff must not hold up the upload of a stale clip
        self.recognize_gate.succeeded()
        record.record_answer(answer)
        self.spool.save(state)
        self._emit_recognition(state)
        return None

    def _upload(self, state: ClipState) -> float | None:
        record = state.upload
        if not self.upload_gate.is_open():
            return self.upload_gate.reopens_at
        record.attempts += 1
        path = self.spool.folder(state.clip) / CLIP_FILE
        try:
            self.uploader.upload(path, state.key, clip_metadata(state))
        except Exception as exc:  # S3 down, throttled, credentials expired...: never drop the clip, retry
            record.error = _error_text(exc)
            self.spool.save(state)
            return self._failed("upload", state, record.attempts, record.error, self.upload_gate)
        self.upload_gate.succeeded()
        record.status, record.error = UPLOADED, ""
        self.spool.save(state)
        self.emit({"event": "upload", "clip": state.clip, "key": state.key, "bytes": path.stat().st_size,
                   "recognition": state.recognition.status, "attempts": record.attempts})
        return None

    def _failed(self, stage: str, state: ClipState, attempt: int, error: str, gate: ServiceGate) -> float:
        retry_at = gate.failed()
        retry_in = round(max(0.0, retry_at - self.clock()), 2)
        log.warning("%s failed; will retry", stage,
                    extra={"clip": state.clip, "stage": stage, "attempt": attempt, "error": error, "retry_in_s": retry_in})
        self.emit({"event": "failure", "clip": state.clip, "stage": stage, "attempt": attempt, "error": error,
                   "retry_in_s": retry_in})
        return retry_at

    def _emit_recognition(self, state: ClipState, **extra: Any) -> None:
        record = state.recognition
        self.emit({"event": "recognition", "clip": state.clip, "key": state.key, "recorded_at": state.recorded_at,
                   "status": record.status, "names": record.names, "faces": record.faces,
                   "confidence": record.confidence, "latency_ms": record.latency_ms,
                   "model_version": record.model_version, "attempts": record.attempts,
                   **({"error": record.error} if record.error else {}), **extra})
