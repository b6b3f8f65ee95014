"""Strangers to review: the faces of unknown visits, grouped by how alike they are.

Each unknown visit reported its evidence: every face of every recognised clip with its box in the recognised frame.
The console takes up to `FACES_PER_VISIT` of a visit's unknown faces (the largest: the sharpest views), embeds each
with the recognizer's own embedder on the clip's recognised frame (the same box, landmarks and network the Lambda
used, so distances mean what the model's threshold means), and joins faces whose groups are on average closer than
the threshold (average-linkage agglomerative clustering). A group is one stranger, seen in one or more visits.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facegate_contract import UNKNOWN
from services.visit_log import VisitRecord

log = logging.getLogger(__name__)

FACES_PER_VISIT = 4
MAX_FACES = 400  # a review page never embeds more than this many faces


@dataclass(frozen=True)
class FaceRef:
    """One unknown face: which clip, where in its recognised frame, in which visit."""

    visit_id: str
    key: str
    box: tuple[float, float, float, float]
    confidence: float | None = None

    @property
    def token(self) -> str:
        """How a form names this face: `<clip key>|x1,y1,x2,y2`."""
        return f"{self.key}|{','.join(f'{v:g}' for v in self.box)}"

    @property
    def box_json(self) -> dict[str, float]:
        return dict(zip(("x1", "y1", "x2", "y2"), self.box))

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)


def parse_token(token: str) -> tuple[str, tuple[float, float, float, float]] | None:
    """The inverse of FaceRef.token; None when malformed."""
    key, _, numbers = token.partition("|")
    try:
        box = tuple(float(v) for v in numbers.split(","))
    except ValueError:
        return None
    return (key, box) if key and len(box) == 4 else None  # type: ignore[return-value]


def unknown_faces(visit: VisitRecord, limit: int = FACES_PER_VISIT) -> list[FaceRef]:
    """The visit's unknown faces that have a box, largest first, at most `limit`, each clip and box once."""
    seen: set[tuple[str, tuple[float, ...]]] = set()
    faces = []
    for item in visit.evidence:
        box = item.get("box")
        if item.get("name") != UNKNOWN or not item.get("key") or not isinstance(box, dict):
            continue
        try:
            values = tuple(float(box[k]) for k in ("x1", "y1", "x2", "y2"))
        except (KeyError, TypeError, ValueError):
            continue
        if values[2] <= values[0] or values[3] <= values[1] or (item["key"], values) in seen:
            continue
        seen.add((item["key"], values))
        confidence = item.get("confidence")
        faces.append(FaceRef(visit.visit_id, str(item["key"]), values,  # type: ignore[arg-type]
                             float(confidence) if isinstance(confidence, (int, float)) else None))
    faces.sort(key=lambda f: f.area, reverse=True)
    return faces[:limit]


@dataclass
class StrangerGroup:
    """Faces that look like one person, and the visits they come from."""

    faces: list[FaceRef]
    visits: list[VisitRecord] = field(default_factory=list)
    spread: float = 0.0  # the largest distance between two of its faces

    @property
    def id(self) -> str:
        digest = hashlib.sha256("\n".join(sorted(f.token for f in self.faces)).encode()).hexdigest()
        return digest[:12]

    @property
    def first_seen(self) -> str:
        return min(v.started_at for v in self.visits) if self.visits else ""

    @property
    def last_seen(self) -> str:
        return max(v.started_at for v in self.visits) if self.visits else ""

    @property
    def devices(self) -> list[str]:
        return sorted({v.device for v in self.visits})


def average_linkage(embeddings: np.ndarray, threshold: float) -> list[list[int]]:
    """Clusters of row indexes: the two clusters closest on average merge while that average is under
    `threshold`. Deterministic (ties merge the lowest indexes first); O(n^3) on at most MAX_FACES rows."""
    n = len(embeddings)
    if n == 0:
        return []
    distances = np.linalg.norm(embeddings[:, None, :] - embeddings[None, :, :], axis=2).astype(np.float64)
    clusters: list[list[int]] = [[i] for i in range(n)]
    # between[a, b]: mean distance between cluster a and cluster b (inf on the diagonal and for merged ones)
    between = distances.copy()
    np.fill_diagonal(between, np.inf)
    alive = np.ones(n, dtype=bool)
    while alive.sum() > 1:
        masked = np.where(alive[:, None] & alive[None, :], between, np.inf)
        flat = int(np.argmin(masked))
        a, b = divmod(flat, n)
        if not masked[a, b] < threshold:
            break
        a, b = min(a, b), max(a, b)
        size_a, size_b = len(clusters[a]), len(clusters[b])
        merged = (between[a] * size_a + between[b] * size_b) / (size_a + size_b)
        clusters[a] = clusters[a] + clusters[b]
        clusters[b] = []
        alive[b] = False
        between[a, :] = merged
        between[:, a] = merged
        between[a, a] = np.inf
        between[b, :] = np.inf
        between[:, b] = np.inf
    return [sorted(c) for c in clusters if c]


class StrangerReview:
    """Embeds unknown faces (cached by clip and box) and groups them.

    `embed(key, box)`: the embedding of one face (the console's media and the recognizer's embedder)."""

    def __init__(self, embed: Callable[[str, dict[str, float]], np.ndarray]) -> None:
        self._embed = embed
        self._cache: dict[tuple[str, tuple[float, ...]], np.ndarray | None] = {}
        self._lock = threading.Lock()

    def embedding(self, face: FaceRef) -> np.ndarray | None:
        """The face's embedding, or None when its clip or box is unusable (expired clip, box off the frame)."""
        cache_key = (face.key, face.box)
        with self._lock:
            if cache_key in self._cache:
                return self._cache[cache_key]
        try:
            vector: np.ndarray | None = np.asarray(self._embed(face.key, face.box_json), dtype=np.float32)
        except Exception as exc:  # noqa: BLE001 - one bad clip must not hide the other strangers
            log.warning("stranger face not embedded", extra={"key": face.key, "error": f"{exc.__class__.__name__}: {exc}"})
            vector = None
        with self._lock:
            if len(self._cache) > 20 * MAX_FACES:
                self._cache.clear()
            self._cache[cache_key] = vector
        return vector

    def groups(self, visits: list[VisitRecord], threshold: float) -> tuple[list[StrangerGroup], list[VisitRecord]]:
        """(groups, newest first; visits with no face that could be embedded)."""
        faces: list[FaceRef] = []
        vectors: list[np.ndarray] = []
        faceless: list[VisitRecord] = []
        by_id = {v.visit_id: v for v in visits}
        for visit in visits:
            usable = 0
            for face in unknown_faces(visit):
                if len(faces) >= MAX_FACES:
                    break
                vector = self.embedding(face)
                if vector is not None:
                    faces.append(face)
                    vectors.append(vector)
                    usable += 1
            if usable == 0:
                faceless.append(visit)
        if not faces:
            return [], faceless
        matrix = np.stack(vectors)
        groups = []
        for members in average_linkage(matrix, threshold):
            group_faces = [faces[i] for i in members]
            ids = []
            for face in group_faces:
                if face.visit_id not in ids:
                    ids.append(face.visit_id)
            sub = matrix[members]
            spread = float(np.linalg.norm(sub[:, None] - sub[None, :], axis=2).max()) if len(members) > 1 else 0.0
            groups.append(StrangerGroup(group_faces, [by_id[i] for i in ids], round(spread, 3)))
        groups.sort(key=lambda g: g.last_seen, reverse=True)
        return groups, faceless


def group_of(groups: list[StrangerGroup], group_id: str) -> StrangerGroup | None:
    return next((g for g in groups if g.id == group_id), None)


def describe(group: StrangerGroup) -> dict[str, Any]:
    """A plain summary (logs, JSON)."""
    return {"id": group.id, "faces": len(group.faces), "visits": [v.visit_id for v in group.visits],
            "spread": group.spread}
