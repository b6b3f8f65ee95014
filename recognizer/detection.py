"""Face detectors behind one small interface."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from recognizer.faces import Detection


class FaceDetector(Protocol):
    """Finds every face in an RGB frame."""

    name: str

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Every face with its box and score, largest first."""
        ...


class DlibHogDetector:
    """dlib's HOG + linear SVM frontal face detector (ships inside dlib; no weights to fetch)."""

    name = "dlib-hog"

    def __init__(self, upsample: int = 1, min_score: float = -0.2) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()
        self._upsample = upsample
        self._min_score = min_score

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        rects, scores, _ = self._detector.run(rgb, self._upsample, self._min_score)
        height, width = rgb.shape[:2]
        found = []
        for rect, score in zip(rects, scores):
            box = (max(0, rect.left()), max(0, rect.top()), min(width, rect.right()), min(height, rect.bottom()))
            if box[2] > box[0] and box[3] > box[1]:
                found.append(Detection(box=box, score=float(score)))
        return sorted(found, key=lambda d: d.area, reverse=True)


def make_detector(name: str) -> FaceDetector:
    """The detector called `name`: "mtcnn" (ONNX Runtime), "mtcnn-torch" (reference) or "hog" (dlib)."""
    if name == "hog":
        return DlibHogDetector()
    if name == "mtcnn-torch":
        from recognizer.mtcnn_onnx import MtcnnSettings
        from recognizer.mtcnn_torch import MtcnnTorchDetector

        return MtcnnTorchDetector(MtcnnSettings.from_env())
    if name == "mtcnn":
        from recognizer.model_files import onnx_dir
        from recognizer.mtcnn_onnx import MtcnnOnnxDetector, MtcnnSettings

        return MtcnnOnnxDetector(onnx_dir(), MtcnnSettings.from_env())
    from recognizer.embedding import ModelUnavailable

    raise ModelUnavailable(f"unknown detector {name!r} (available: mtcnn, mtcnn-torch, hog)")
