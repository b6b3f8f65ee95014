"""Door-grade open set on real faces: lfw-dev's 12 people enrolled, door thresholds calibrated on a cohort of
lfw-strangers, measured on *other* lfw-strangers. Skips cleanly where ../shared/datasets is absent.

To keep the runtime modest it samples (a fixed sample: a cohort of 500 strangers and 800 others to measure, ~1,700
faces embedded, about a minute here) and keeps the embeddings it made in the temp folder for its next run. The full
figures (3,277 strangers, visits of 4 clips) are scripts/bench/door.py's, in docs/door-open-set.md.
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np
import pytest

from recognizer.faces import UNKNOWN
from recognizer.training import fit as training
from recognizer.face_library.door import calibrate_door

STRANGERS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "lfw-strangers" / "unknown"
COHORT, MEASURED = 500, 800


def test_door_grade_matches_keep_lfw_strangers_out_and_let_the_enrolled_in(lfw_dev: Path) -> None:
    if not STRANGERS.is_dir():
        pytest.skip(f"shared dataset not found at {STRANGERS}")
    from recognizer.pipeline import FacePipeline

    pipeline = FacePipeline.load("dlib")
    photos = training.images_in(STRANGERS)
    picked = np.random.default_rng(0).choice(len(photos), size=COHORT + MEASURED, replace=False)
    train = _embedded(pipeline, "training", training.labelled_split(lfw_dev, "training"))
    val = _embedded(pipeline, "val", training.labelled_split(lfw_dev, "val"))
    cohort = _embedded(pipeline, "cohort", training.unknown_items_of([photos[i] for i in picked[:COHORT]]))
    strangers = _embedded(pipeline, "strangers", training.unknown_items_of([photos[i] for i in picked[COHORT:]]))

    named_model, _ = training.fit(pipeline, train, val)
    model = calibrate_door(named_model, cohort.embeddings)
    result = training.evaluate(model, val, strangers)

    assert model.door_info["source"] == "cohort" and len(model.door_thresholds) == 12
    assert all(model.door_threshold(label) <= model.threshold for label in model.labels)
    assert result["accuracy"] >= 0.98  # naming is unchanged by the door
    assert result["door_false_accept"] <= 1 / MEASURED  # the whole set: 2 of 3,277 (0.0006)
    assert result["door_false_accept"] <= result["false_accept"]
    assert result["door_accept"] >= 0.85  # per photo; per visit of 4 clips 0.97 (the bench)
    assert sum(result["door_false_accepts_by_person"].values()) <= 1
    assert all(name != UNKNOWN for name in result["false_accepts_by_person"])


def _embedded(pipeline, name: str, items: list) -> training.EmbeddedSet:
    """Embeddings this test made on an earlier run (same photos, same backend), else made now and kept."""
    key = hashlib.sha256(repr([pipeline.embedder.name, *[(str(i.path), i.label) for i in items]]).encode()).hexdigest()
    file = Path(tempfile.gettempdir()) / "facegate-test-door-lfw" / f"{name}-{key[:16]}.npz"
    if file.exists():
        with np.load(file, allow_pickle=False) as data:
            return training.EmbeddedSet(data["embeddings"], list(data["labels"]), [Path(p) for p in data["missed"]])
    embedded = training.embed_images(pipeline, items)
    file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(file, embeddings=embedded.embeddings, labels=np.array(embedded.labels, dtype=str),
             missed=np.array([str(p) for p in embedded.missed], dtype=str))
    return embedded
