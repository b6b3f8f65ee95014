"""detect → embed → classify, for one RGB frame."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from facegate_contract.settings import ServingSettings, serving_settings
from recognizer.classify.open_set import OpenSetClassifier
from recognizer.embed.descriptor import face_descriptors
from recognizer.detect.registry import FaceDetector, make_detector
from recognizer.embed.registry import FaceEmbedder, make_embedder
from recognizer.faces import Detection, Identity

MAX_FACES = 8  # a doorway frame with more faces than this is cut to the largest ones


@dataclass
class FrameResult:
    detections: list[Detection]
    identities: list[Identity]
    timings_ms: dict[str, float] = field(default_factory=dict)
    descriptors: list[bytes | None] = field(default_factory=list)  # per face (recognizer.embed.descriptor): biometric


@dataclass
class FacePipeline:
    """The detector and embedder, loaded once per process."""

    detector: FaceDetector
    embedder: FaceEmbedder

    @classmethod
    def load(cls, backend: str = "dlib", detector: str | None = None,
             settings: ServingSettings | None = None) -> FacePipeline:
        """Load once per process. `detector`: "mtcnn" (ONNX Runtime, default) or "mtcnn-torch"; `settings`: the
        serving settings (default: from the environment)."""
        settings = settings or serving_settings()
        return cls(detector=make_detector(detector or settings.detector, settings),
                   embedder=make_embedder(backend, settings))

    def run(self, rgb: np.ndarray, classifier: OpenSetClassifier) -> FrameResult:
        """Every face in the frame with its identity, and how long each stage took."""
        t0 = time.perf_counter()
        detections = self.detector.detect(rgb)[:MAX_FACES]
        t1 = time.perf_counter()
        embeddings = self.embedder.embed(rgb, detections)
        t2 = time.perf_counter()
        identities = classifier.classify(embeddings) if detections else []
        t3 = time.perf_counter()
        timings = {"detect": (t1 - t0) * 1e3, "embed": (t2 - t1) * 1e3, "classify": (t3 - t2) * 1e3}
        return FrameResult(detections, identities, {k: round(v, 2) for k, v in timings.items()},
                           face_descriptors(embeddings))
