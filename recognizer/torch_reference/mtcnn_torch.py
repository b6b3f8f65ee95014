"""facenet-pytorch's MTCNN as a FaceDetector: the torch reference path (benchmarks, parity, the
`lambda-torch` comparison image). Serving uses recognizer.detect.mtcnn instead."""
from __future__ import annotations

import os

import numpy as np

from facegate_contract.settings import ServingSettings
from recognizer.faces import Detection
from recognizer.detect.mtcnn import MtcnnSettings, to_detections


class MtcnnTorchDetector:
    """FaceDetector on torch; same settings and output shape as MtcnnOnnxDetector."""

    name = "mtcnn-torch"

    def __init__(self, settings: MtcnnSettings = MtcnnSettings(), threads: int | None = None) -> None:
        import torch

        from recognizer.torch_reference.torch_compat import install

        install()
        from facenet_pytorch import MTCNN

        # torch's kernels gain from a second thread here (1 thread is 1.3-1.7x slower).
        torch.set_num_threads(threads or int(os.environ.get("FACEGATE_TORCH_THREADS", "2")))
        self._mtcnn = MTCNN(keep_all=True, device="cpu", min_face_size=settings.min_face,
                            thresholds=list(settings.thresholds), factor=settings.factor)

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        boxes, probs, points = self._mtcnn.detect(rgb, landmarks=True)
        if boxes is None:
            return []
        raw = np.concatenate([np.asarray(boxes, np.float32), np.asarray(probs, np.float32)[:, None]], axis=1)
        return to_detections(raw, np.asarray(points, np.float32), rgb.shape[1], rgb.shape[0])


def make(settings: ServingSettings) -> MtcnnTorchDetector:
    """The registry's factory: the same smallest face as the ONNX detector."""
    return MtcnnTorchDetector(MtcnnSettings(min_face=settings.min_face))
