"""Face detectors by name, behind one small interface.

Each detector lives in its own module with a `make(settings)` function; adding one is a new module and one line
in DETECTORS. Modules are imported only when chosen, so the torch reference never loads in the served image.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

import numpy as np

from facegate_contract.settings import ServingSettings, serving_settings
from recognizer.faces import Detection
from recognizer.model_files import ModelUnavailable


class FaceDetector(Protocol):
    """Finds every face in an RGB frame."""

    name: str

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Every face with its box and score, largest first."""
        ...


DETECTORS: dict[str, str] = {
    "mtcnn": "recognizer.detect.mtcnn",  # MTCNN on ONNX Runtime: what serving uses
    "mtcnn-torch": "recognizer.torch_reference.mtcnn_torch",  # facenet-pytorch's MTCNN: parity and benches
}


def make_detector(name: str, settings: ServingSettings | None = None) -> FaceDetector:
    """The detector called `name` (a key of DETECTORS), or ModelUnavailable; `settings`: the serving settings
    (default: from the environment, facegate_contract.settings)."""
    if name not in DETECTORS:
        raise ModelUnavailable(f"unknown detector {name!r} (available: {', '.join(DETECTORS)})")
    make: Callable[[ServingSettings], FaceDetector] = importlib.import_module(DETECTORS[name]).make
    return make(settings or serving_settings())
