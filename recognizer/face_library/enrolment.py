"""Enrol one person: embed their photos, publish a new model version, upsert their `people` record, keep the photos.
Remove one: a model version without them, their record and photos deleted. The CLI (`facegate enroll`, `facegate
forget`) and the console both change the face library only through these functions."""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.training import fit as training
from recognizer.classify.artifact_store import ModelVersion, PointerMoved, S3ArtifactStore
from recognizer.classify.open_set import OpenSetClassifier
from recognizer.training.dataset import LabelledImage
from recognizer.face_library.door import calibrate_door
from recognizer.face_library.person_photos import PersonPhotos
from recognizer.pipeline import FacePipeline
from recognizer.face_library.stack_access import StackAccess
from facegate_contract.items import PERSON_KEY

log = logging.getLogger(__name__)

# A model change reads the current version and publishes the next: in one process (the console serves several
# browsers) they take turns; across processes the pointer's conditional write catches one published in between.
_MODEL_CHANGES = threading.Lock()


class EnrolmentError(ValueError):
    """Nothing could be enrolled (no face found, backend mismatch)."""


@dataclass(frozen=True)
class EnrolmentResult:
    name: str
    version: str
    images_used: int
    skipped: list[Path]
    people_in_model: int
    photos_stored: int = 0


@dataclass(frozen=True)
class RemovalResult:
    name: str
    version: str | None  # the model version without them; None when the model did not know them
    record_deleted: bool
    photos_deleted: int


def enroll(pipeline: FacePipeline, store: S3ArtifactStore, people_table: Any, name: str, images: list[Path],
           details: dict[str, Any] | None = None, photos: PersonPhotos | None = None,
           add: bool = False) -> EnrolmentResult:
    """Add or replace `name` in the current model and write their record (existing fields are kept).

    `add`: the new photos join the ones `name` was enrolled from (a stranger's faces added to a known person);
    otherwise they replace them. `photos`: where the photos with a usable face are kept for the face library."""
    embedded = training.embed_images(pipeline, [LabelledImage(p, name) for p in images])
    if not embedded.labels:
        raise EnrolmentError(f"no usable face in any of the {len(images)} image(s) for {name}: nothing enrolled")

    def change(current: ModelVersion | None) -> tuple[OpenSetClassifier, dict[str, Any]]:
        backend, embedder = pipeline.embedder.name, pipeline.embedder
        base = current.classifier if current else OpenSetClassifier.empty(backend, embedder.default_threshold,
                                                                          embedder.dimension)
        if base.backend != backend:
            raise EnrolmentError(f"the deployed model uses the {base.backend} backend, not {backend}")
        # The door thresholds are calibrated again for the changed gallery, against the cohort the model keeps.
        return calibrate_door(base.with_person(name, embedded.embeddings, keep_existing=add)), {
            "enrolled": name, "images": len(embedded.labels), "mode": "add" if add else "replace"}

    version, updated = _publish_change(store, change)
    record = people_table.get_item(Key={PERSON_KEY: name}).get("Item") or {PERSON_KEY: name, "name": name.replace("_", " ")}
    record.update(details or {})
    people_table.put_item(Item=record)
    stored = 0
    if photos is not None:
        missed = set(embedded.missed)
        used = [p for p in images if p not in missed]
        if not add:
            photos.delete_all(name)
        stored = len(photos.add(name, used))
    assert version is not None and updated is not None  # an enrolment always has a change to publish
    return EnrolmentResult(name, version, len(embedded.labels), embedded.missed, len(updated.labels), stored)


def _publish_change(store: S3ArtifactStore,
                    change: Callable[[ModelVersion | None], tuple[OpenSetClassifier, dict[str, Any]] | None],
                    attempts: int = 5) -> tuple[str | None, OpenSetClassifier | None]:
    """Apply `change` to the current model and publish it on top of exactly that version: when another enrolment
    (the console, another CLI) moved the model meanwhile, redo the change on the newer one. Returns the new version
    and classifier, or (None, None) when `change` had nothing to do."""
    for attempt in range(1, attempts + 1):
        with _MODEL_CHANGES:  # one change at a time within this process; the pointer's condition across processes
            current = store.load_current()
            changed = change(current)
            if changed is None:
                return None, None
            classifier, metrics = changed
            try:
                return store.publish(classifier, {**metrics, "based_on": current.version if current else None},
                                     based_on=current), classifier
            except PointerMoved:
                if attempt == attempts:
                    raise
                log.info("the model moved on meanwhile; applying the change again", extra={"attempt": attempt})
    raise AssertionError("unreachable")


def remove_person(store: S3ArtifactStore, people_table: Any, name: str,
                  photos: PersonPhotos | None = None) -> RemovalResult:
    """Forget `name`: a new model version without them (when the model knew them), their `people` record and
    their enrolment photos deleted. Clips and sightings that name them stay until they expire."""
    def change(current: ModelVersion | None) -> tuple[OpenSetClassifier, dict[str, Any]] | None:
        if current is None or name not in current.classifier.labels:
            return None
        return calibrate_door(current.classifier.without_person(name)), {"removed": name}

    version, _ = _publish_change(store, change)
    existed = bool(people_table.get_item(Key={PERSON_KEY: name}).get("Item"))
    if existed:
        people_table.delete_item(Key={PERSON_KEY: name})
    deleted = photos.delete_all(name) if photos is not None else 0
    return RemovalResult(name, version, existed, deleted)


def restore_gallery(store: S3ArtifactStore, name: str, embeddings: np.ndarray | None) -> str | None:
    """Give `name` back the gallery they had (`embeddings`; None: they were not enrolled): the undo of an
    enrolment that added faces to them. A new model version, or None when the model has nothing to change."""
    def change(current: ModelVersion | None) -> tuple[OpenSetClassifier, dict[str, Any]] | None:
        if current is None:
            return None
        classifier = current.classifier.without_person(name)
        if embeddings is not None and len(embeddings):
            classifier = classifier.with_person(name, embeddings)
        return calibrate_door(classifier), {"restored": name}

    version, _ = _publish_change(store, change)
    return version


def set_details(people_table: Any, name: str, details: dict[str, Any], replace: bool = True) -> dict[str, Any]:
    """Write `name`'s record: `details` replace every field but the key (or, `replace=False`, are merged in)."""
    current = people_table.get_item(Key={PERSON_KEY: name}).get("Item") or {}
    record = {PERSON_KEY: name, **({} if replace else {k: v for k, v in current.items() if k != PERSON_KEY}),
              **{k: v for k, v in details.items() if k != PERSON_KEY}}
    people_table.put_item(Item=record)
    return record


def enrol_listed_people(pipeline: FacePipeline, stack: StackAccess, images: Path) -> list[EnrolmentResult]:
    """Enrol every person that `images`/manifest.json lists under "enrol" (paths relative to `images`)."""
    manifest = json.loads((images / "manifest.json").read_text())
    store, people, photos = stack.model_store(), stack.people(), stack.photos()
    return [enroll(pipeline, store, people, name, [images / f for f in files], photos=photos)
            for name, files in manifest["enrol"].items()]
