"""What every camera yields: RGB frames stamped with the camera's own clock."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One RGB frame (height x width x 3, uint8) and its capture time in seconds on the camera's clock.

    `t` is only compared with other frames of the same camera (it is not wall time): clips are cut on it,
    so a replayed video cuts the same way at any replay speed.
    """

    rgb: np.ndarray
    t: float


class Camera(Protocol):
    """A source of frames; `frames()` ends when the source does (end of video) or after `close()`."""

    fps: float

    def frames(self) -> Iterator[Frame]:
        """Frames in capture order."""
        ...

    def close(self) -> None:
        """Stop capturing and release the device; `frames()` then ends."""
        ...
