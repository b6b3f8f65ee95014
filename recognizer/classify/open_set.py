"""Open-set classifier over embeddings: nearest enrolled person, or "unknown" beyond a threshold.

Two thresholds per face: the naming threshold (one, chosen on the val split) says who it is; a stricter door
threshold per person (calibrated against a stranger cohort by recognizer.face_library.door) says whether the match is
strong enough to open a door. A person without a calibrated door threshold gets the strict fallback.
"""
from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recognizer.faces import UNKNOWN, Identity

# Distances are compared against the mean of the k nearest gallery vectors of each person.
K_NEAREST = 3
# The door threshold of a person with no calibration (models from before it, a person enrolled without a cohort):
# this share of the naming threshold. 0.8 x 0.516 names none of lfw-strangers' 3,277 faces on lfw-dev's gallery but
# let the enrolled person in on only 76 % of visits and kept the project's own hard doorway shut for its resident;
# 0.9 still needs closer matches than naming does and lets residents in. A door meant to hold FPIR <= 0.001 is
# calibrated with a cohort of strangers (`facegate train --cohort DIR`; docs/door-open-set.md).
DOOR_FALLBACK_RATIO = 0.9
# However few strangers a person's cohort puts near them, a door-grade match is at least this much closer than
# the naming threshold: the door always needs stronger evidence than the name.
DOOR_MAX_RATIO = 0.97


@dataclass
class OpenSetClassifier:
    """A gallery of embeddings per person and a distance threshold chosen on validation data."""

    backend: str
    labels: list[str]
    gallery: np.ndarray  # (n, d) float32
    gallery_labels: np.ndarray  # (n,) int indexes into labels
    threshold: float
    door_thresholds: dict[str, float] = field(default_factory=dict)  # label -> calibrated door distance threshold
    cohort: np.ndarray | None = None  # (m, d) stranger embeddings the door thresholds were calibrated against
    door_info: dict[str, Any] = field(default_factory=dict)  # how they were calibrated (method, sizes, digests)

    def door_threshold(self, label: str) -> float:
        """The distance at or under which a face named `label` is door-grade: always stricter than the naming one."""
        fallback = self.threshold * DOOR_FALLBACK_RATIO
        return min(self.threshold * DOOR_MAX_RATIO, self.door_thresholds.get(label, fallback))

    def person_distances(self, embeddings: np.ndarray) -> np.ndarray:
        """(n_faces, n_people) distance of each face to each person (mean of its k nearest)."""
        if len(self.labels) == 0:
            return np.zeros((len(embeddings), 0), dtype=np.float32)
        pairwise = np.linalg.norm(embeddings[:, None, :] - self.gallery[None, :, :], axis=2)
        out = np.empty((len(embeddings), len(self.labels)), dtype=np.float32)
        for j in range(len(self.labels)):
            own = np.sort(pairwise[:, self.gallery_labels == j], axis=1)[:, :K_NEAREST]
            out[:, j] = own.mean(axis=1)
        return out

    def classify(self, embeddings: np.ndarray) -> list[Identity]:
        """One identity per embedding; "unknown" when the nearest person is beyond the threshold."""
        distances = self.person_distances(embeddings)
        result = []
        for row in distances:
            if row.size == 0:
                result.append(Identity(UNKNOWN, 1.0, float("inf")))
                continue
            best = int(np.argmin(row))
            d = float(row[best])
            p_known = _match_probability(d, self.threshold)
            if d <= self.threshold:
                label = self.labels[best]
                result.append(Identity(label, p_known, d, door=d <= self.door_threshold(label)))
            else:
                result.append(Identity(UNKNOWN, 1.0 - p_known, d))
        return result

    def with_person(self, label: str, embeddings: np.ndarray, keep_existing: bool = False) -> "OpenSetClassifier":
        """A copy with `label`'s gallery replaced by `embeddings` (enrolment); with `keep_existing`, the new
        embeddings are added to the ones `label` already has."""
        keep = np.ones(len(self.gallery_labels), dtype=bool)
        labels = list(self.labels)
        if label in labels:
            if not keep_existing:
                keep = self.gallery_labels != labels.index(label)
        else:
            labels.append(label)
        index = labels.index(label)
        gallery = np.concatenate([self.gallery[keep], embeddings.astype(np.float32)])
        gallery_labels = np.concatenate([self.gallery_labels[keep], np.full(len(embeddings), index)])
        # Their door threshold no longer fits the new gallery: the strict fallback until it is calibrated again.
        door = {k: v for k, v in self.door_thresholds.items() if k != label}
        return dataclasses.replace(self, labels=labels, gallery=gallery,
                                   gallery_labels=gallery_labels.astype(np.int32), door_thresholds=door)

    def without_person(self, label: str) -> "OpenSetClassifier":
        """A copy that no longer knows `label` (its gallery removed, the other people's indexes kept consistent)."""
        if label not in self.labels:
            return dataclasses.replace(self, labels=list(self.labels), gallery=self.gallery.copy(),
                                       gallery_labels=self.gallery_labels.copy(), door_thresholds=dict(self.door_thresholds))
        index = self.labels.index(label)
        keep = self.gallery_labels != index
        remaining = self.gallery_labels[keep]
        shifted = np.where(remaining > index, remaining - 1, remaining).astype(np.int32)
        labels = [name for name in self.labels if name != label]
        door = {k: v for k, v in self.door_thresholds.items() if k != label}
        return dataclasses.replace(self, labels=labels, gallery=self.gallery[keep], gallery_labels=shifted,
                                   door_thresholds=door)

    def gallery_size(self, label: str) -> int:
        """How many embeddings the gallery holds for `label` (0 for someone not enrolled)."""
        if label not in self.labels:
            return 0
        return int(np.count_nonzero(self.gallery_labels == self.labels.index(label)))

    def to_bytes(self) -> bytes:
        """Serialise to an .npz payload (no pickle)."""
        buffer = io.BytesIO()
        meta = json.dumps({"backend": self.backend, "labels": self.labels, "threshold": self.threshold,
                           "door_thresholds": self.door_thresholds, "door_info": self.door_info})
        # float16 halves the cohort's bytes; its distances move by ~1e-4, far below any threshold's margin.
        arrays: dict[str, np.ndarray] = {"gallery": self.gallery, "gallery_labels": self.gallery_labels,
                                          "meta": np.array(meta)}
        if self.cohort is not None:
            arrays["cohort"] = self.cohort.astype(np.float16)
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds oddly
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes) -> "OpenSetClassifier":
        """Inverse of to_bytes."""
        with np.load(io.BytesIO(payload), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            # Models from before door calibration have none of it: every person gets the strict fallback.
            cohort = data["cohort"].astype(np.float32) if "cohort" in data.files else None
            return cls(meta["backend"], list(meta["labels"]), data["gallery"].astype(np.float32),
                       data["gallery_labels"].astype(np.int32), float(meta["threshold"]),
                       {str(k): float(v) for k, v in (meta.get("door_thresholds") or {}).items()}, cohort,
                       dict(meta.get("door_info") or {}))

    @classmethod
    def empty(cls, backend: str, threshold: float, dimension: int = 128) -> "OpenSetClassifier":
        """A classifier that knows nobody (everything is unknown) until people are enrolled."""
        return cls(backend, [], np.zeros((0, dimension), dtype=np.float32), np.zeros(0, dtype=np.int32), threshold)


def _match_probability(distance: float, threshold: float) -> float:
    # A logistic around the threshold: 0.5 at the threshold, ~0.95 at 80 % of it.
    scale = max(threshold * 0.068, 1e-6)
    z = float(np.clip((distance - threshold) / scale, -50.0, 50.0))
    return float(1.0 / (1.0 + np.exp(z)))
