"""Face embedders by name (the model's `backend`), behind one small interface.

Each embedder lives in its own module with a `make(settings)` function; adding one is a new module and one line
in EMBEDDERS. Modules are imported only when chosen.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

import numpy as np

from facegate_contract.settings import ServingSettings, serving_settings
from recognizer.faces import Detection
from recognizer.model_files import ModelUnavailable


class FaceEmbedder(Protocol):
    """Turns detected faces into fixed-length vectors where distance means dissimilarity."""

    name: str
    dimension: int
    # Used until a threshold is chosen on validation data (empty model, first enrolment).
    default_threshold: float

    def embed(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        """An (n, dimension) float32 array, one row per detection."""
        ...


EMBEDDERS: dict[str, str] = {
    "dlib": "recognizer.embed.dlib_resnet",  # dlib's face ResNet, 128-d: what serving uses
    "facenet": "recognizer.embed.facenet",  # InceptionResnetV1 vggface2, 512-d, when its weights were given
}


def make_embedder(backend: str, settings: ServingSettings | None = None) -> FaceEmbedder:
    """The embedder for `backend` (a key of EMBEDDERS), or ModelUnavailable with a message saying what is
    missing; `settings`: the serving settings (default: from the environment)."""
    if backend not in EMBEDDERS:
        raise ModelUnavailable(f"unknown embedding backend {backend!r} (available: {', '.join(EMBEDDERS)})")
    make: Callable[[ServingSettings], FaceEmbedder] = importlib.import_module(EMBEDDERS[backend]).make
    return make(settings or serving_settings())
