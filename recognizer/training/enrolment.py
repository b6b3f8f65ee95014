"""Enrol one person: embed their photos, publish a new model version, upsert their `people` record."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recognizer.training import fit as training
from recognizer.artifact_store import S3ArtifactStore
from recognizer.classifier import OpenSetClassifier
from recognizer.training.dataset import LabelledImage
from recognizer.pipeline import FacePipeline
from recognizer.training.stack_access import StackAccess


class EnrolmentError(ValueError):
    """Nothing could be enrolled (no face found, backend mismatch)."""


@dataclass(frozen=True)
class EnrolmentResult:
    name: str
    version: str
    images_used: int
    skipped: list[Path]
    people_in_model: int


def enroll(pipeline: FacePipeline, store: S3ArtifactStore, people_table: Any, name: str, images: list[Path],
           details: dict[str, Any] | None = None) -> EnrolmentResult:
    """Add or replace `name` in the current model and write their record (existing fields are kept)."""
    embedded = training.embed_images(pipeline, [LabelledImage(p, name) for p in images])
    if not embedded.labels:
        raise EnrolmentError(f"no usable face in any of the {len(images)} image(s) for {name}: nothing enrolled")
    current = store.load_current()
    backend = pipeline.embedder.name
    embedder = pipeline.embedder
    base = current.classifier if current else OpenSetClassifier.empty(backend, embedder.default_threshold,
                                                                      embedder.dimension)
    if base.backend != backend:
        raise EnrolmentError(f"the deployed model uses the {base.backend} backend, not {backend}")
    updated = base.with_person(name, embedded.embeddings)
    version = store.publish(updated, {"enrolled": name, "images": len(embedded.labels),
                                      "based_on": current.version if current else None})
    record = people_table.get_item(Key={"person": name}).get("Item") or {"person": name, "name": name.replace("_", " ")}
    record.update(details or {})
    people_table.put_item(Item=record)
    return EnrolmentResult(name, version, len(embedded.labels), embedded.missed, len(updated.labels))


def enrol_listed_people(pipeline: FacePipeline, stack: StackAccess, images: Path) -> list[EnrolmentResult]:
    """Enrol every person that `images`/manifest.json lists under "enrol" (paths relative to `images`)."""
    manifest = json.loads((images / "manifest.json").read_text())
    store, people = stack.model_store(), stack.people()
    return [enroll(pipeline, store, people, name, [images / f for f in files]) for name, files in manifest["enrol"].items()]
