"""Build an open-set classifier from the seed layout and measure it."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recognizer.classify.open_set import OpenSetClassifier
from recognizer.training.dataset import LabelledImage, images_in, labelled_split  # noqa: F401 - callers use fit.labelled_split
from recognizer.faces import UNKNOWN, Detection
from recognizer.image_decode import ImageError, load_rgb
from recognizer.pipeline import FacePipeline


@dataclass
class EmbeddedSet:
    embeddings: np.ndarray
    labels: list[str]
    missed: list[Path]


def central_face(detections: list[Detection], width: int, height: int) -> Detection | None:
    """The labelled person in a portrait photo: the large face closest to the centre."""
    if not detections:
        return None
    cx, cy = width / 2, height / 2

    def badness(d: Detection) -> float:
        x1, y1, x2, y2 = d.box
        offset = np.hypot((x1 + x2) / 2 - cx, (y1 + y2) / 2 - cy)
        return offset / max(width, height) - np.sqrt(d.area) / max(width, height)

    return min(detections, key=badness)


def embed_images(pipeline: FacePipeline, items: list[LabelledImage],
                 progress: Callable[[list[LabelledImage]], Iterable[LabelledImage]] = iter) -> EmbeddedSet:
    """Embed the central face of every image; images with no face are reported, not guessed."""
    vectors, labels, missed = [], [], []
    for item in progress(items):
        try:
            rgb = load_rgb(item.path)
        except ImageError:
            missed.append(item.path)
            continue
        face = central_face(pipeline.detector.detect(rgb), rgb.shape[1], rgb.shape[0])
        if face is None:
            missed.append(item.path)
            continue
        vectors.append(pipeline.embedder.embed(rgb, [face])[0])
        labels.append(item.label)
    dim = pipeline.embedder.dimension
    return EmbeddedSet(np.asarray(vectors, dtype=np.float32).reshape(-1, dim), labels, missed)


def choose_threshold(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """The distance threshold with the fewest errors (false rejects + false accepts), ties to the middle."""
    candidates = np.unique(np.concatenate([genuine, impostor]))
    if candidates.size == 0:
        raise ValueError("no validation distances to choose a threshold from")
    errors = np.array([(genuine > t).sum() + (impostor <= t).sum() for t in candidates])
    best = np.flatnonzero(errors == errors.min())
    lo, hi = candidates[best[0]], candidates[best[-1]]
    # The midpoint of the best plateau and the next distance above it keeps a margin on both sides.
    above = candidates[candidates > hi]
    return float((lo + (above[0] if above.size else hi)) / 2) if best.size == 1 else float((lo + hi) / 2)


def fit(pipeline: FacePipeline, train: EmbeddedSet, val: EmbeddedSet) -> tuple[OpenSetClassifier, dict]:
    """Gallery from the training split; threshold from genuine vs impostor distances on the val split.

    Impostor distances are each val face's distance to the nearest *other* person, so the
    threshold is tuned on people the classifier must reject without using any test strangers.
    """
    labels = sorted(set(train.labels))
    index = {label: i for i, label in enumerate(labels)}
    gallery_labels = np.array([index[label] for label in train.labels], dtype=np.int32)
    probe = OpenSetClassifier(pipeline.embedder.name, labels, train.embeddings, gallery_labels, threshold=np.inf)
    known = [i for i, label in enumerate(val.labels) if label in index]
    distances = probe.person_distances(val.embeddings[known])
    own = np.array([index[val.labels[i]] for i in known])
    genuine = distances[np.arange(len(known)), own]
    masked = distances.copy()
    masked[np.arange(len(known)), own] = np.inf
    impostor = masked.min(axis=1)
    threshold = choose_threshold(genuine, impostor)
    classifier = OpenSetClassifier(pipeline.embedder.name, labels, train.embeddings, gallery_labels, threshold)
    metrics = {"threshold": round(threshold, 4), "genuine_mean": round(float(genuine.mean()), 4),
               "impostor_mean": round(float(impostor.mean()), 4)}
    return classifier, metrics


def evaluate(classifier: OpenSetClassifier, val: EmbeddedSet, unknown: EmbeddedSet | None) -> dict:
    """accuracy on known val faces, share of strangers rejected, and the false-accept rate; the same for the door
    (a val face let in: named right *and* door-grade; a stranger let in: door-grade for anyone), and who the
    false accepts were named as."""
    answers = classifier.classify(val.embeddings) if len(val.labels) else []
    n_val = len(val.labels) + len(val.missed)
    correct = sum(a.name == t for a, t in zip(answers, val.labels))
    door_in = sum(a.name == t and a.door for a, t in zip(answers, val.labels))
    result = {"accuracy": round(correct / n_val, 4) if n_val else None, "n": n_val,
              "n_no_face": len(val.missed), "threshold": round(classifier.threshold, 4),
              "door_accept": round(door_in / n_val, 4) if n_val else None,
              "door_calibration": classifier.door_info.get("source", "fallback"),
              "backend": classifier.backend}
    if unknown is not None:
        strangers = classifier.classify(unknown.embeddings) if len(unknown.labels) else []
        n_unknown = len(unknown.labels) + len(unknown.missed)
        # A stranger whose face is not found is also not let in: it counts as rejected.
        named = [a.name for a in strangers if a.name != UNKNOWN]
        door = [a.name for a in strangers if a.name != UNKNOWN and a.door]
        rejected = n_unknown - len(named)
        result.update({"unknown_rejection": round(rejected / n_unknown, 4) if n_unknown else None,
                       "false_accept": round(len(named) / n_unknown, 4) if n_unknown else None,
                       "door_false_accept": round(len(door) / n_unknown, 5) if n_unknown else None,
                       "n_unknown": n_unknown,
                       "false_accepts_by_person": _by_person(named), "door_false_accepts_by_person": _by_person(door),
                       "max_person_share_x_mean": _max_share_ratio(named, len(classifier.labels))})
    return result


def _by_person(names: list[str]) -> dict[str, int]:
    return {name: names.count(name) for name in sorted(set(names))}


def _max_share_ratio(names: list[str], people: int) -> float | None:
    """The most-accepted person's share of the false accepts, over the mean share (1/people); None without any."""
    if not names or not people:
        return None
    return round(max(names.count(n) for n in set(names)) / len(names) * people, 2)


def unknown_items(folder: Path) -> list[LabelledImage]:
    """Stranger photos: every image in `folder` (labelled unknown)."""
    return unknown_items_of(images_in(folder))


def unknown_items_of(paths: list[Path]) -> list[LabelledImage]:
    """These photos, labelled unknown."""
    return [LabelledImage(p, UNKNOWN) for p in paths]

