"""Face detectors behind one small interface."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from facegate_contract.settings import ServingSettings, serving_settings
from recognizer.faces import Detection


class FaceDetector(Protocol):
    """Finds every face in an RGB frame."""

    name: str

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Every face with its box and score, largest first."""
        ...


def make_detector(name: str, settings: ServingSettings | None = None) -> FaceDetector:
    """The detector called `name`: "mtcnn" (ONNX Runtime) or "mtcnn-torch" (the torch reference); `settings`: the
    serving settings (default: from the environment, facegate_contract.settings)."""
    settings = settings or serving_settings()
    if name == "mtcnn-torch":
        from recognizer.mtcnn_onnx import MtcnnSettings
        from recognizer.torch_reference.mtcnn_torch import MtcnnTorchDetector

        return MtcnnTorchDetector(MtcnnSettings(min_face=settings.min_face))
    if name == "mtcnn":
        from recognizer.model_files import onnx_dir
        from recognizer.mtcnn_onnx import MtcnnOnnxDetector, MtcnnSettings

        return MtcnnOnnxDetector(onnx_dir(settings), MtcnnSettings(min_face=settings.min_face), threads=settings.threads)
    from recognizer.embedding import ModelUnavailable

    raise ModelUnavailable(f"unknown detector {name!r} (available: mtcnn, mtcnn-torch)")
