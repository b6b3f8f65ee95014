"""Whether two clips' faces look like the same person: the recognizer's face descriptors, compared by cosine.

BIOMETRIC. A descriptor (facegate_contract.wire.Face.descriptor, 24 int8 components) is a face template. The
device keeps it in memory only, on the votes of open and recently ended visits: it is not in the clip's
state.json, the event log, visit events or visit reports (Vote.to_json leaves it out), and it is never logged.
A clip resumed after a restart has none; its votes are then compared by name (`differs`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pi_app.visits.evidence import Vote


def similarity(a: bytes, b: bytes) -> float | None:
    """Cosine of two descriptors (1: the same direction); None when they cannot be compared."""
    if len(a) != len(b):
        return None
    x, y = np.frombuffer(a, np.int8).astype(np.float32), np.frombuffer(b, np.int8).astype(np.float32)
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y) / norm if norm > 0 and math.isfinite(norm) else None


def resemblance(vote: Vote, faces: Sequence[Vote]) -> float | None:
    """How much `vote`'s face looks like the closest of `faces` (the best cosine); None without descriptors."""
    if vote.descriptor is None:
        return None
    scores = [s for f in faces if f.descriptor is not None
              if (s := similarity(vote.descriptor, f.descriptor)) is not None]
    return max(scores) if scores else None


def differs(vote: Vote, faces: Sequence[Vote], same_face: float) -> bool:
    """True when `vote` is clearly someone other than the person of `faces`: its face resembles none of theirs
    (cosine below `same_face`) or, without descriptors, it names an enrolled person none of them was named
    ("unknown" is no evidence: a known face turned away comes back unknown)."""
    score = resemblance(vote, faces)
    if score is not None:
        return score < same_face
    named = {f.name for f in faces if f.enrolled}
    return vote.enrolled and bool(named) and vote.name not in named
