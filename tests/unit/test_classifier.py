"""Open-set classifier and threshold choice on controlled embeddings."""
from __future__ import annotations

import numpy as np
import pytest

from recognizer.classify.open_set import OpenSetClassifier
from recognizer.faces import UNKNOWN
from recognizer.training.fit import choose_threshold


def _gallery() -> OpenSetClassifier:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.01, (4, 128)).astype(np.float32)
    b = a.copy() + 0.0
    b[:, 0] += 1.0
    classifier = OpenSetClassifier.empty("dlib", threshold=0.3)
    return classifier.with_person("Ada_Lovelace", a).with_person("Alan_Turing", b)


def test_nearest_person_within_threshold_is_named() -> None:
    classifier = _gallery()
    probe = classifier.gallery[classifier.gallery_labels == 1][:1] + 0.01
    [identity] = classifier.classify(probe)
    assert identity.name == "Alan_Turing"
    assert identity.confidence > 0.9


def test_far_from_everyone_is_unknown() -> None:
    classifier = _gallery()
    probe = np.full((1, 128), 5.0, dtype=np.float32)
    [identity] = classifier.classify(probe)
    assert identity.name == UNKNOWN and identity.confidence > 0.9


def test_empty_classifier_knows_nobody() -> None:
    [identity] = OpenSetClassifier.empty("dlib", 0.5).classify(np.zeros((1, 128), np.float32))
    assert identity.name == UNKNOWN


def test_enrolling_again_replaces_the_persons_gallery() -> None:
    classifier = _gallery()
    replaced = classifier.with_person("Ada_Lovelace", np.ones((2, 128), np.float32))
    assert replaced.labels == classifier.labels
    assert (replaced.gallery_labels == 0).sum() == 2 and (replaced.gallery_labels == 1).sum() == 4


def test_serialisation_round_trip_needs_no_pickle() -> None:
    classifier = _gallery()
    restored = OpenSetClassifier.from_bytes(classifier.to_bytes())
    assert restored.labels == classifier.labels and restored.threshold == classifier.threshold
    np.testing.assert_array_equal(restored.gallery, classifier.gallery)


def test_threshold_separates_genuine_from_impostor() -> None:
    genuine = np.array([0.30, 0.35, 0.40, 0.42])
    impostor = np.array([0.60, 0.65, 0.70])
    t = choose_threshold(genuine, impostor)
    assert 0.42 <= t < 0.60


def test_threshold_with_overlap_minimises_errors() -> None:
    genuine = np.array([0.3, 0.4, 0.5, 0.7])
    impostor = np.array([0.45, 0.8, 0.9])
    t = choose_threshold(genuine, impostor)
    def errors(x: float) -> int:
        return int((genuine > x).sum() + (impostor <= x).sum())
    best = min(errors(x) for x in np.linspace(0, 1, 1001))
    assert errors(t) == best == 1


def test_threshold_needs_data() -> None:
    with pytest.raises(ValueError):
        choose_threshold(np.array([]), np.array([]))
