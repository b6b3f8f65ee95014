"""The Lambda's model follows the S3 pointer: quiet while nothing is published, loud once about a model it cannot
load (and keeps serving the last good one), and never a stack trace per refresh."""
from __future__ import annotations

import logging

import numpy as np
import pytest
from botocore.exceptions import ClientError

from recognizer.classify.artifact_store import ModelVersion
from recognizer.classify.open_set import OpenSetClassifier
from recognizer.classify.model_source import ModelSource


def classifier(name: str, backend: str = "dlib") -> OpenSetClassifier:
    return OpenSetClassifier(backend, [name], np.ones((1, 128), np.float32), np.zeros(1, np.int32), 0.5)


class Store:
    """An artifact store stand-in: `etag` is the pointer's, `load` what load_current does."""

    def __init__(self) -> None:
        self.etag: str | None = None
        self.etag_error: Exception | None = None
        self.load = lambda: None
        self.loads = 0

    def pointer_etag(self) -> str | None:
        if self.etag_error is not None:
            raise self.etag_error
        return self.etag

    def load_current(self) -> ModelVersion | None:
        self.loads += 1
        return self.load()


@pytest.fixture
def store() -> Store:
    return Store()


def test_nothing_published_is_quiet(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    models = ModelSource(OpenSetClassifier.empty("dlib", 0.5), store=store, refresh_s=0)
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            models.refresh()
    assert models.version == "none" and store.loads == 0 and caplog.records == []


def test_a_new_version_is_loaded_once(store: Store) -> None:
    models = ModelSource(OpenSetClassifier.empty("dlib", 0.5), store=store, refresh_s=0)
    store.etag, store.load = "e1", lambda: ModelVersion("v1", classifier("A_B"))
    models.refresh()
    models.refresh()
    assert models.version == "v1" and models.classifier.labels == ["A_B"] and store.loads == 1


def test_a_corrupt_model_is_refused_once_and_the_last_good_one_keeps_serving(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    models = ModelSource(OpenSetClassifier.empty("dlib", 0.5), store=store, refresh_s=0)
    store.etag, store.load = "e1", lambda: ModelVersion("v1", classifier("A_B"))
    models.refresh()

    def corrupt() -> ModelVersion:
        return ModelVersion("v2", OpenSetClassifier.from_bytes(b"not an npz"))

    store.etag, store.load = "e2", corrupt
    with caplog.at_level(logging.ERROR):
        for _ in range(4):
            assert models.refresh().labels == ["A_B"]
    assert models.version == "v1" and store.loads == 2
    assert [r.getMessage() for r in caplog.records] == ["new model refused; the last good one keeps serving"]


def test_a_model_of_another_backend_is_refused(store: Store) -> None:
    models = ModelSource(OpenSetClassifier.empty("dlib", 0.5), store=store, refresh_s=0)
    store.etag, store.load = "e1", lambda: ModelVersion("v1", classifier("A_B", backend="facenet"))
    models.refresh()
    assert models.version == "none"


def test_an_unreadable_pointer_is_logged_once_per_period_not_per_refresh(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    store.etag_error = ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")
    with caplog.at_level(logging.WARNING):
        models = ModelSource(OpenSetClassifier.empty("dlib", 0.5), store=store, refresh_s=0)
        for _ in range(10):
            models.refresh()
    assert len(caplog.records) == 1 and not caplog.records[0].exc_info
