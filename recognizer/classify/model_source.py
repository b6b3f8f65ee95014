"""The classifier the handler uses right now, refreshed from S3 without a redeploy."""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from recognizer.classify.artifact_store import S3ArtifactStore, read_local
from recognizer.classify.open_set import OpenSetClassifier

log = logging.getLogger(__name__)

PROBLEM_LOG_S = 300.0  # an unreadable pointer is logged at most this often, not at every refresh


class ModelSource:
    """Holds the current classifier; checks the S3 pointer at most every `refresh_s` seconds."""

    def __init__(self, empty: OpenSetClassifier, store: S3ArtifactStore | None = None, local_dir: Path | None = None,
                 refresh_s: float = 15.0) -> None:
        """`empty`: what to answer with until a model is published (knows nobody: all "unknown")."""
        self._backend = empty.backend
        self._store = store
        self._refresh_s = refresh_s
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._etag: str | None = None
        self._refused_etag: str | None = None
        self._problem_logged_at = -PROBLEM_LOG_S
        self.version = "none"
        self.classifier = empty
        if local_dir is not None:
            self.classifier = read_local(local_dir)
            self.version = f"local:{local_dir.name}"
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> OpenSetClassifier:
        """Return the classifier, loading a newly published version when the pointer moved.

        No pointer yet is normal (nothing published): quiet. An unreadable pointer is logged at most every
        `PROBLEM_LOG_S`. A new version that cannot be loaded (corrupt, wrong backend) is refused once, loudly,
        and the last good model keeps serving.
        """
        if self._store is None:
            return self.classifier
        now = time.monotonic()
        if not force and now - self._checked_at < self._refresh_s:
            return self.classifier
        with self._lock:
            self._checked_at = now
            try:
                etag = self._store.pointer_etag()
            except Exception as exc:  # S3 unreachable, access denied...: keep serving what we have
                self._problem(now, exc)
                return self.classifier
            if etag is None or etag in (self._etag, self._refused_etag):
                return self.classifier
            try:
                loaded = self._store.load_current()
                if loaded is not None and loaded.classifier.backend != self._backend:
                    raise ValueError(f"model backend {loaded.classifier.backend} != runtime {self._backend}")
            except Exception as exc:  # noqa: BLE001 - corrupt npz, bad JSON, missing version files
                self._refused_etag = etag
                log.error("new model refused; the last good one keeps serving",
                          extra={"serving": self.version, "error": f"{exc.__class__.__name__}: {exc}"[:300]})
                return self.classifier
            if loaded is not None:
                self.classifier, self.version = loaded.classifier, loaded.version
                log.info("model loaded", extra={"version": loaded.version, "people": len(loaded.classifier.labels)})
            self._etag = etag
        return self.classifier

    def _problem(self, now: float, exc: Exception) -> None:
        if now - self._problem_logged_at >= PROBLEM_LOG_S:
            self._problem_logged_at = now
            log.warning("model pointer unreadable; serving the current model",
                        extra={"serving": self.version, "error": f"{exc.__class__.__name__}: {exc}"[:300]})
