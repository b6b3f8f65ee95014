"""Door-grade calibration on synthetic embeddings: each person's door threshold bounds the strangers it lets in,
a crowded neighbourhood gets a stricter door, the door is never looser than the name, and models without
calibration (older artifacts, too few strangers) fall back to the strict global door threshold."""
from __future__ import annotations

import numpy as np
import pytest

from recognizer.classify.open_set import DOOR_FALLBACK_RATIO, OpenSetClassifier
from recognizer.faces import UNKNOWN
from recognizer.face_library.door import DOOR_QUANTILE, MIN_COHORT, calibrate_door

DIM, PEOPLE, NAMING = 128, 10, 0.55


def _faces(rng: np.random.Generator, centre: np.ndarray, n: int) -> np.ndarray:
    return (centre + rng.normal(0, 0.02, (n, DIM))).astype(np.float32)


def _world(seed: int = 0) -> tuple[OpenSetClassifier, np.ndarray, np.ndarray]:
    """10 enrolled people, and strangers (cohort, held out) among whom a quarter look like person 0."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (PEOPLE, DIM))
    centres *= 0.5 / np.linalg.norm(centres, axis=1, keepdims=True)
    classifier = OpenSetClassifier.empty("dlib", NAMING)
    for j, centre in enumerate(centres):
        classifier = classifier.with_person(f"Person_{chr(65 + j)}", _faces(rng, centre, 12))

    def strangers(n: int) -> np.ndarray:
        others = rng.normal(0, 1, (n, DIM))
        others *= 0.5 / np.linalg.norm(others, axis=1, keepdims=True)
        lookalikes = n // 4  # near person 0: the one who draws most false accepts at the naming threshold
        offset = rng.normal(0, 1, (lookalikes, DIM))
        others[:lookalikes] = centres[0] + offset * 0.3 / np.linalg.norm(offset, axis=1, keepdims=True)
        return np.concatenate([_faces(rng, c, 1) for c in others])

    return classifier, strangers(1000), strangers(2000)


def _accepts(classifier: OpenSetClassifier, faces: np.ndarray) -> tuple[dict[str, int], dict[str, int]]:
    named: dict[str, int] = {}
    door: dict[str, int] = {}
    for identity in classifier.classify(faces):
        if identity.name != UNKNOWN:
            named[identity.name] = named.get(identity.name, 0) + 1
            if identity.door:
                door[identity.name] = door.get(identity.name, 0) + 1
    return named, door


def test_each_persons_door_false_accepts_are_bounded_by_the_calibration() -> None:
    classifier, cohort, held_out = _world()
    named, _ = _accepts(classifier, held_out)
    assert named.get("Person_A", 0) > 0.05 * len(held_out)  # the naming threshold lets person A's look-alikes in

    calibrated = calibrate_door(classifier, cohort)
    on_cohort = calibrated.person_distances(cohort)
    for j, label in enumerate(calibrated.labels):
        # by construction under the quantile on the cohort; and no more than that on strangers it never saw
        assert (on_cohort[:, j] <= calibrated.door_threshold(label)).mean() <= DOOR_QUANTILE
    _, door = _accepts(calibrated, held_out)
    for label in calibrated.labels:
        assert door.get(label, 0) <= DOOR_QUANTILE * len(held_out), (label, door)
    assert calibrated.door_threshold("Person_A") < min(calibrated.door_threshold(p) for p in calibrated.labels[1:])
    assert all(calibrated.door_threshold(p) <= NAMING for p in calibrated.labels)


def test_the_true_person_is_still_door_grade() -> None:
    classifier, cohort, _ = _world()
    calibrated = calibrate_door(classifier, cohort)
    rng = np.random.default_rng(7)
    for j, label in enumerate(calibrated.labels):
        own = calibrated.gallery[calibrated.gallery_labels == j].mean(axis=0)
        probes = _faces(rng, own, 20)
        answers = calibrated.classify(probes)
        assert all(a.name == label for a in answers)
        assert sum(a.door for a in answers) >= 19, label


def test_the_model_keeps_its_calibration_and_cohort_and_enrolment_recalibrates() -> None:
    classifier, cohort, _ = _world()
    calibrated = calibrate_door(classifier, cohort)
    restored = OpenSetClassifier.from_bytes(calibrated.to_bytes())
    assert restored.door_thresholds == calibrated.door_thresholds
    assert restored.cohort is not None and restored.cohort.shape == cohort.shape
    assert calibrate_door(restored).door_thresholds == pytest.approx(calibrated.door_thresholds, abs=2e-3)

    rng = np.random.default_rng(3)
    changed = restored.with_person("Person_A", _faces(rng, restored.gallery[0], 12))
    assert "Person_A" not in changed.door_thresholds  # a new gallery: the strict fallback until recalibrated
    assert changed.door_threshold("Person_A") == pytest.approx(NAMING * DOOR_FALLBACK_RATIO)
    assert "Person_A" in calibrate_door(changed).door_thresholds
    assert "Person_A" not in restored.without_person("Person_A").door_thresholds


def test_a_model_from_before_calibration_falls_back_to_the_strict_door() -> None:
    import io
    import json

    gallery = np.zeros((6, DIM), np.float32)
    gallery[3:, 0] = 5.0  # Person_A at the origin, Person_B far away; three identical vectors each
    buffer = io.BytesIO()  # the old artifact's layout: no cohort, no door fields in its meta
    np.savez_compressed(buffer, gallery=gallery, gallery_labels=np.array([0, 0, 0, 1, 1, 1], np.int32),
                        meta=np.array(json.dumps({"backend": "dlib", "labels": ["Person_A", "Person_B"],
                                                  "threshold": NAMING})))
    old = OpenSetClassifier.from_bytes(buffer.getvalue())
    assert old.door_thresholds == {} and old.cohort is None
    strict = NAMING * DOOR_FALLBACK_RATIO
    probes = np.zeros((2, DIM), np.float32)
    probes[0, 1], probes[1, 1] = strict - 0.01, strict + 0.02  # inside the strict door; named but beyond it
    inside, beyond = old.classify(probes)
    assert (inside.name, inside.door) == ("Person_A", True)
    assert (beyond.name, beyond.door) == ("Person_A", False)


def test_without_a_cohort_the_other_people_are_the_strangers_when_there_are_enough() -> None:
    classifier, _, _ = _world()
    by_gallery = calibrate_door(classifier)
    assert by_gallery.door_info["source"] == "gallery" and set(by_gallery.door_thresholds) == set(classifier.labels)
    few = classifier
    for label in classifier.labels[3:]:
        few = few.without_person(label)
    alone = calibrate_door(few)  # 2 other people: no tail to estimate, every person gets the strict fallback
    assert alone.door_thresholds == {} and alone.door_info["fallback"] == few.labels
    tiny_cohort = calibrate_door(classifier, np.zeros((MIN_COHORT - 1, DIM), np.float32))
    assert tiny_cohort.door_info["source"] == "gallery"
