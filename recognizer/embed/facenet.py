"""InceptionResnetV1 (facenet-pytorch's vggface2 weights) exported to ONNX: the `facenet` backend, served only
when real weights were given at build time."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from facegate_contract.settings import ServingSettings
from recognizer.area_resize import AreaSampler
from recognizer.faces import Detection
from recognizer.model_files import ModelUnavailable, facenet_model_path
from recognizer.onnx_session import open_session


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
        self._session = open_session(model_path, threads)

    def embed(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        """An (n, 512) float32 array, one row per detection."""
        if not detections:
            return np.zeros((0, self.dimension), dtype=np.float32)
        boxes = np.array([d.box for d in detections], dtype=np.int64)
        crops = AreaSampler(rgb).resize_regions(boxes[:, 1], boxes[:, 3], boxes[:, 0], boxes[:, 2], self.input_size)
        batch = ((crops - 127.5) / 128.0).transpose(0, 3, 1, 2).astype(np.float32)
        return self._session.run(None, {"input": batch})[0].astype(np.float32)


def make(settings: ServingSettings) -> FacenetOnnxEmbedder:
    """The registry's factory: the exported network beside the MTCNN ones."""
    return FacenetOnnxEmbedder(facenet_model_path(settings), threads=settings.threads)
