"""Least-squares 2-D similarity transforms (scale, rotation, translation), as dlib's
find_similarity_transform computes them, from one fixed point set to many."""
from __future__ import annotations

import numpy as np


class SimilarityFit:
    """Fits the similarity transform from a fixed `source` point set (P, 2) to target point sets
    (n, P, 2).

    dlib solves it with Umeyama's SVD method; in 2-D the same minimiser (scale times a rotation,
    no reflection) has a closed form, the complex least-squares ratio sum(conj(s) t) / sum(|s|^2)
    over centred points, so no SVD is needed per face.
    """

    def __init__(self, source: np.ndarray) -> None:
        source = np.asarray(source, dtype=np.float64)
        self._mean = source.mean(axis=0)
        centred = source - self._mean
        norm = (centred ** 2).sum()
        self._along = centred / norm  # gives the cosine part: sum(s . t)
        self._across = np.stack([-centred[:, 1], centred[:, 0]], axis=1) / norm  # the sine part

    def matrices(self, targets: np.ndarray) -> np.ndarray:
        """(n, 2, 2) scale-rotation matrices M; target ~ M @ source + t."""
        targets = np.asarray(targets)
        centred = targets - targets.mean(axis=1, keepdims=True, dtype=np.float64)
        cos = np.einsum("npk,pk->n", centred, self._along)
        sin = np.einsum("npk,pk->n", centred, self._across)
        result = np.empty((len(targets), 2, 2))
        result[:, 0, 0], result[:, 0, 1], result[:, 1, 0], result[:, 1, 1] = cos, -sin, sin, cos
        return result

    def transforms(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(M (n, 2, 2), t (n, 2)) with target ~ M @ source + t."""
        m = self.matrices(targets)
        t = np.asarray(targets, dtype=np.float64).mean(axis=1) - m @ self._mean
        return m, t
