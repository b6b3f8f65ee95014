"""The model pointer in S3 (moto): a change is published on top of exactly the version it was made to, so two
enrolments at once (the console and a CLI, two machines) never lose one."""
from __future__ import annotations

from typing import Any

import boto3
import numpy as np
import pytest

from recognizer.classify.artifact_store import PointerMoved, S3ArtifactStore
from recognizer.classify.open_set import OpenSetClassifier
from recognizer.face_library.enrolment import _publish_change

BUCKET = "models-bucket"


@pytest.fixture
def s3(mocked_aws: None) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def _vectors(seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(3, 128)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _with(label: str, seed: int):
    def change(current):
        base = current.classifier if current else OpenSetClassifier.empty("dlib", 0.55)
        return base.with_person(label, _vectors(seed)), {"enrolled": label}
    return change


def test_a_publish_on_a_version_that_moved_on_is_refused(s3: Any) -> None:
    store, other = S3ArtifactStore(s3, BUCKET), S3ArtifactStore(s3, BUCKET)
    store.publish(OpenSetClassifier.empty("dlib", 0.55).with_person("Ann_Lee", _vectors(1)), {}, based_on=None)
    seen = store.load_current()
    other.publish(seen.classifier.with_person("Bob_Ray", _vectors(2)), {}, based_on=other.load_current())
    with pytest.raises(PointerMoved):
        store.publish(seen.classifier.with_person("Cid_Moe", _vectors(3)), {}, based_on=seen)
    assert store.load_current().classifier.labels == ["Ann_Lee", "Bob_Ray"]
    with pytest.raises(PointerMoved):  # "there was none" is checked too
        store.publish(OpenSetClassifier.empty("dlib", 0.55), {}, based_on=None)


def test_a_change_raced_by_another_publisher_is_applied_again_on_the_newer_model(s3: Any) -> None:
    store, other = S3ArtifactStore(s3, BUCKET), S3ArtifactStore(s3, BUCKET)
    _publish_change(store, _with("Ann_Lee", 1))
    calls = []

    def racing(current):
        calls.append(current.version)
        if len(calls) == 1:  # another machine (so not this process's lock) publishes between our read and our write
            seen = other.load_current()
            other.publish(seen.classifier.with_person("Bob_Ray", _vectors(2)), {}, based_on=seen)
        return _with("Cid_Moe", 3)(current)

    version, classifier = _publish_change(store, racing)
    assert len(calls) == 2 and calls[0] != calls[1]
    current = store.load_current()
    assert current.version == version and set(current.classifier.labels) == {"Ann_Lee", "Bob_Ray", "Cid_Moe"}


def test_shipping_a_trained_model_replaces_whatever_is_current(s3: Any) -> None:
    store = S3ArtifactStore(s3, BUCKET)
    _publish_change(store, _with("Ann_Lee", 1))
    trained = OpenSetClassifier.empty("dlib", 0.55).with_person("Dee_Fox", _vectors(4))
    store.publish(trained, {"trained": True})
    assert store.load_current().classifier.labels == ["Dee_Fox"]
