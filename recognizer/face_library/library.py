"""The face library as one list: everyone the `people` table or the current model knows, with their details, how
many embeddings the model holds for them and how many enrolment photos are kept (`facegate people`, the console)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from facegate_contract import plain_json
from facegate_contract.items import PERSON_KEY
from recognizer.classify.artifact_store import S3ArtifactStore
from recognizer.face_library.person_photos import PersonPhotos


@dataclass(frozen=True)
class LibraryEntry:
    label: str
    details: dict[str, Any] = field(default_factory=dict)
    gallery: int = 0  # embeddings the current model holds: 0 means not enrolled (details only)
    photos: int = 0

    @property
    def enrolled(self) -> bool:
        return self.gallery > 0

    @property
    def display_name(self) -> str:
        name = self.details.get("name")
        return name if isinstance(name, str) and name else self.label.replace("_", " ")


@dataclass(frozen=True)
class Library:
    model_version: str | None
    threshold: float | None
    people: list[LibraryEntry]

    def get(self, label: str) -> LibraryEntry | None:
        return next((p for p in self.people if p.label == label), None)


def people_records(people_table: Any) -> dict[str, dict[str, Any]]:
    """Every `people` item by label, without its key."""
    records: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {}
    while True:
        page = people_table.scan(**kwargs)
        for item in page.get("Items", []):
            records[str(item[PERSON_KEY])] = {k: plain_json(v) for k, v in item.items() if k != PERSON_KEY}
        if "LastEvaluatedKey" not in page:
            return records
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def load_library(store: S3ArtifactStore, people_table: Any, photos: PersonPhotos | None = None) -> Library:
    """The library now: the union of the `people` records and the current model's labels, sorted by label."""
    current = store.load_current()
    records = people_records(people_table)
    counts = photos.counts() if photos is not None else {}
    labels = sorted(set(records) | set(current.classifier.labels if current else []))
    entries = [LibraryEntry(label, records.get(label, {}), current.classifier.gallery_size(label) if current else 0,
                            counts.get(label, 0)) for label in labels]
    return Library(current.version if current else None, current.classifier.threshold if current else None, entries)
