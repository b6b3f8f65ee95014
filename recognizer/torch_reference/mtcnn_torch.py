"""facenet-pytorch's MTCNN as a FaceDetector: the torch reference path (benchmarks, parity, the
`lambda-torch` comparison image). Serving uses recognizer.detect.mtcnn instead."""
from __future__ import annotations


import numpy as np

from facegate_contract.settings import ServingSettings, serving_settings
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

        torch.set_num_threads(threads or serving_settings().torch_threads)
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
