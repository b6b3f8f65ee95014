"""The classifier the handler uses right now, refreshed from S3 without a redeploy."""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from recognizer.artifact_store import S3ArtifactStore, read_local
from recognizer.classifier import OpenSetClassifier

log = logging.getLogger(__name__)


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
        self.version = "none"
        self.classifier = empty
        if local_dir is not None:
            self.classifier = read_local(local_dir)
            self.version = f"local:{local_dir.name}"
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> OpenSetClassifier:
        """Return the classifier, loading a newly published version when the pointer moved."""
        if self._store is None:
            return self.classifier
        now = time.monotonic()
        if not force and now - self._checked_at < self._refresh_s:
            return self.classifier
        with self._lock:
            self._checked_at = now
            try:
                etag = self._store.pointer_etag()
                if etag is not None and etag != self._etag:
                    loaded = self._store.load_current()
                    if loaded is not None:
                        if loaded.classifier.backend != self._backend:
                            log.error("model backend mismatch", extra={"model": loaded.classifier.backend,
                                                                       "runtime": self._backend})
                        else:
                            self.classifier, self.version = loaded.classifier, loaded.version
                            log.info("model loaded", extra={"version": loaded.version,
                                                            "people": len(loaded.classifier.labels)})
                    self._etag = etag
            except Exception:  # keep serving the model we have; the next refresh tries again
                log.exception("model refresh failed")
        return self.classifier
