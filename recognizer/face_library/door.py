"""Door-grade calibration: a door threshold per enrolled person, set against a cohort of strangers.

Naming and opening are different questions. The naming threshold is one distance for everyone, chosen on the val
split; how many strangers come that close differs a lot from person to person. Each person's door threshold is
therefore `DOOR_MARGIN` x the `DOOR_QUANTILE` quantile of the cohort strangers' distances to that person: by
construction fewer than that share of the cohort comes within it, and the margin below it is what keeps strangers
*outside* the cohort out (tuned on lfw-strangers, docs/door-open-set.md). It is never looser than the naming
threshold.

The cohort is stored with the model (float16, ~256 KB for 1,000 faces) so that an enrolment later calibrates the
new person against the same strangers; the Lambda only reads the thresholds. Where it comes from:
- `facegate train --cohort DIR`: photos of people who will never be enrolled (up to `--cohort-max` of them);
- otherwise the other enrolled people's gallery faces (each person's strangers are everyone else), when there
  are at least `MIN_COHORT` of them from `MIN_COHORT_PEOPLE` people;
- otherwise no calibration: the classifier's strict fallback (DOOR_FALLBACK_RATIO x the naming threshold).
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path

import numpy as np

from recognizer.classify.open_set import OpenSetClassifier

log = logging.getLogger(__name__)

DOOR_QUANTILE = 0.01  # the cohort share whose distance each person's door threshold is measured from
DOOR_MARGIN = 0.84  # door threshold = margin x that quantile (chosen on lfw-strangers: docs/door-open-set.md)
# Without a cohort the other enrolled people stand in for strangers: a dozen identities estimate the tail badly
# (too loose for the person who draws the most look-alikes), so their quantile gets a stricter margin.
GALLERY_MARGIN = 0.76
MIN_COHORT = 50  # fewer cohort faces than this estimate no tail: the strict fallback instead
MIN_COHORT_PEOPLE = 5  # ...and a gallery cohort needs this many other people (one look-alike is not a cohort)
DEFAULT_COHORT_MAX = 1000


def calibrate_door(classifier: OpenSetClassifier, cohort: np.ndarray | None = None,
                   quantile: float = DOOR_QUANTILE, margin: float = DOOR_MARGIN,
                   info: dict | None = None, gallery_margin: float = GALLERY_MARGIN) -> OpenSetClassifier:
    """A copy of `classifier` with every person's door threshold set against `cohort` (stranger embeddings), or
    against the cohort it already stores, or against the other people's gallery faces; see the module's note."""
    stored = cohort if cohort is not None else classifier.cohort
    thresholds: dict[str, float] = {}
    source = "cohort" if stored is not None and len(stored) >= MIN_COHORT else "gallery"
    if source == "cohort":
        # in slices: person_distances holds faces x gallery x dimension floats at once
        faces = np.asarray(stored, np.float32)
        distances = np.concatenate([classifier.person_distances(faces[i:i + 100]) for i in range(0, len(faces), 100)])
        for j, label in enumerate(classifier.labels):
            thresholds[label] = _door_threshold(distances[:, j], classifier.threshold, quantile, margin)
    else:
        for j, label in enumerate(classifier.labels):
            others = classifier.gallery_labels != j
            if others.sum() < MIN_COHORT or len(np.unique(classifier.gallery_labels[others])) < MIN_COHORT_PEOPLE:
                continue  # too few strangers to say anything: the strict fallback
            alone = dataclasses.replace(classifier, labels=[label], gallery=classifier.gallery[~others],
                                        gallery_labels=np.zeros(int((~others).sum()), np.int32))
            distances = alone.person_distances(classifier.gallery[others])[:, 0]
            thresholds[label] = _door_threshold(distances, classifier.threshold, quantile, gallery_margin)
    door_info = {**(classifier.door_info if cohort is None else {}), **(info or {}), "source": source,
                 "quantile": quantile, "margin": margin if source == "cohort" else gallery_margin,
                 "cohort_size": len(stored) if stored is not None else 0,
                 "fallback": sorted(set(classifier.labels) - set(thresholds))}
    log.info("door thresholds calibrated", extra={"source": source, "people": len(thresholds),
                                                   "fallback": door_info["fallback"]})
    return dataclasses.replace(classifier, door_thresholds=thresholds, door_info=door_info,
                               cohort=None if stored is None else np.asarray(stored, np.float32))


def _door_threshold(stranger_distances: np.ndarray, naming: float, quantile: float, margin: float) -> float:
    return float(min(naming, margin * np.quantile(stranger_distances, quantile)))


def cohort_images(folder: Path, limit: int = DEFAULT_COHORT_MAX, seed: int = 0) -> list[Path]:
    """Up to `limit` stranger photos from `folder`, a fixed random sample when there are more."""
    from recognizer.training.dataset import images_in

    paths = images_in(folder)
    if len(paths) <= limit:
        return paths
    picked = np.random.default_rng(seed).choice(len(paths), size=limit, replace=False)
    return [paths[i] for i in sorted(picked)]


def file_digest(path: Path) -> str:
    """A short content digest of a photo: lets `evaluate` leave the cohort's own photos out of its strangers."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
