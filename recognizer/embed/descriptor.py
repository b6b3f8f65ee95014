"""A compact face descriptor for the device: is this clip's face the same as the last clip's?

BIOMETRIC DATA. The descriptor is a face template (24 signed bytes): it goes in the /recognize answer to the
device that sent the frame and nowhere else. It is never logged, never written to S3, DynamoDB, the device's
event log, its clip state or its visit reports; the device keeps it in memory only while a visit may use it.

How: the 128-d dlib embedding, centred on the mean of public LFW faces and projected on their first 24
principal axes (recognizer/embed/descriptor_basis.py, fitted by scripts/fit_descriptor_basis.py), scaled to unit
length and quantised to int8. The device compares two descriptors by cosine. On held-out lfw-dev photos it
tells two faces apart as well as the full embedding does (docs/visits-identity.md); it names nobody: only the
recognizer's classifier does that.
"""
from __future__ import annotations

import base64
from functools import cache

import numpy as np

from recognizer.embed import descriptor_basis

DESCRIPTOR_BYTES = descriptor_basis.DIMS
_SCALE = 254.0  # a unit vector's components rarely exceed 0.5: use the int8 range, clip the rare outlier


def _floats(packed: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed), dtype="<f2").astype(np.float32)


@cache
def _basis() -> tuple[np.ndarray, np.ndarray]:
    return _floats(descriptor_basis.MEAN), _floats(descriptor_basis.AXES).reshape(DESCRIPTOR_BYTES, -1)


def face_descriptors(embeddings: np.ndarray) -> list[bytes | None]:
    """One descriptor per embedding row; None for each when the embedder is not the one the basis was fitted for
    (another dimension: the device then groups by place and time alone)."""
    if embeddings.ndim != 2 or embeddings.shape[1] != descriptor_basis.EMBEDDING_DIMS:
        return [None] * (len(embeddings) if embeddings.ndim else 0)
    mean, axes = _basis()
    projected = (embeddings.astype(np.float32) - mean) @ axes.T
    norms = np.linalg.norm(projected, axis=1, keepdims=True)
    unit = projected / np.maximum(norms, 1e-12)
    return [row.tobytes() for row in np.clip(np.round(unit * _SCALE), -127, 127).astype(np.int8)]
