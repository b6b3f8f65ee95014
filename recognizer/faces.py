"""Plain data passed between the pipeline stages."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from facegate_contract import UNKNOWN  # noqa: F401 - re-exported: the classifier's answer for a stranger
from facegate_contract.wire import Box, Face


@dataclass(frozen=True)
class Detection:
    """One detected face: box in pixels (x1, y1, x2, y2) and the detector's score."""

    box: tuple[int, int, int, int]
    score: float
    # Five (x, y) points from detectors that give them (MTCNN): eyes, nose, mouth corners.
    landmarks: tuple[tuple[float, float], ...] | None = None

    @property
    def area(self) -> int:
        x1, y1, x2, y2 = self.box
        return max(0, x2 - x1) * max(0, y2 - y1)


@dataclass(frozen=True)
class Identity:
    """The classifier's answer for one face."""

    name: str  # a First_Last label, or UNKNOWN
    confidence: float
    distance: float
    door: bool = False  # the match is close enough for the person's door threshold, not only for the name


@dataclass
class RecognizedFace:
    """A face with its identity and the person's details (empty for unknown faces)."""

    detection: Detection
    identity: Identity
    details: dict = field(default_factory=dict)
    details_available: bool = True  # False: the people table could not be read (the device then never opens)
    sighting_id: str | None = None  # the sort key of this face's item in `sightings`, when it was written
    descriptor: bytes | None = None  # recognizer.embed.descriptor: biometric, for the calling device's answer only

    def to_wire(self) -> Face:
        """The face as the API answers it (the contract's Face)."""
        x1, y1, x2, y2 = self.detection.box
        return Face(
            name=self.identity.name,
            confidence=round(min(1.0, max(0.0, self.identity.confidence)), 4),
            # No enrolled people means no distance: JSON has no Infinity, so say null.
            distance=round(self.identity.distance, 4) if math.isfinite(self.identity.distance) else None,
            box=Box(x1=x1, y1=y1, x2=x2, y2=y2, score=round(min(1.0, max(0.0, self.detection.score)), 4)),
            details=self.details,
            details_unavailable=not self.details_available,
            sighting_id=self.sighting_id,
            door=self.identity.door,
            descriptor=self.descriptor,
        )


Embeddings = np.ndarray  # (n, d) float32
