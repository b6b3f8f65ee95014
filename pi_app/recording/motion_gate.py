"""The motion gate: a cheap on-device check that skips recognising clips where nothing moves.

A doorway is empty most of the day; sending each of its still clips to the API costs money and
bandwidth for nothing. Motion is measured by frame differencing on small, blurred grey frames:
downscaling and blurring average away sensor noise and JPEG blocks, the global brightness change
(auto-exposure, a cloud) is taken out, and isolated changed pixels are removed, so only a changed
region of some size counts. The recorder scores every clip as it records it (`MotionMeter`); the worker
asks `should_recognise`. A skipped clip is still uploaded unless the policy says otherwise, and the
worker reports it as a `recognition` event with status `skipped_still`: nothing is dropped silently.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from pi_app.recording.clip_state import NOT_UPLOADED, SKIPPED_STILL, ClipState

SMALL_WIDTH = 160  # pixels: a 45 px face at 640 is still 11 px here, sensor noise is averaged 16-fold
PIXEL_CHANGE = 12  # grey levels a small pixel must change by to count (sensor noise there is ~1-2)
MOTION_LAG_S = 0.25  # compare frames this far apart: a slow step moves too little between two frames
_OPEN = np.ones((2, 2), np.uint8)  # removes specks of 1 px: noise, not a moving body


@dataclass(frozen=True)
class MotionPolicy:
    """What the worker does with clips where nothing moves."""

    enabled: bool = True  # False: recognise every clip (the gate off)
    threshold: float = 0.002  # moving fraction of the frame (0.2 %: ~40 small pixels, a face stepping in)
    upload_still: bool = True  # still clips are uploaded all the same (not recognised)
    # Inside a visit too, a still clip right after one that showed nobody is not sent: nothing moved since a frame
    # with no face, so there is still none (the doorway after someone left, while the visit waits to end).
    still_after_empty: bool = True


def small_grey(rgb: np.ndarray, width: int = SMALL_WIDTH) -> np.ndarray:
    """The frame downscaled to `width` (area average), grey and blurred: what motion is measured on."""
    height = max(1, round(rgb.shape[0] * width / rgb.shape[1]))
    small = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (width, height), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (5, 5), 0)


def motion_score(before: np.ndarray, after: np.ndarray, pixel_change: int = PIXEL_CHANGE) -> float:
    """The fraction of pixels that changed between two `small_grey` frames (0 = still, 1 = all of it)."""
    diff = after.astype(np.int16) - before.astype(np.int16)
    diff -= np.int16(np.median(diff))  # the whole scene brighter or darker is light, not motion
    changed = (np.abs(diff) > pixel_change).astype(np.uint8)
    opened = cv2.morphologyEx(changed, cv2.MORPH_OPEN, _OPEN)
    return cv2.countNonZero(opened) / opened.size


class MotionMeter:
    """Scores the frames of a stream as they come: each against the frame `lag_s` earlier (camera time);
    `take()` returns the highest score since the last call (one clip's motion)."""

    def __init__(self, lag_s: float = MOTION_LAG_S) -> None:
        self.lag_s = lag_s
        self._history: deque[tuple[float, np.ndarray]] = deque()
        self._peak = 0.0

    def offer(self, rgb: np.ndarray, t: float) -> float:
        """Measure one frame (camera time `t`); returns its score."""
        grey = small_grey(rgb)
        while len(self._history) > 1 and self._history[1][0] <= t - self.lag_s:
            self._history.popleft()  # keep one frame at least lag_s old as the reference
        score = 0.0
        if self._history and self._history[0][1].shape == grey.shape:
            score = motion_score(self._history[0][1], grey)
        elif self._history:
            self._history.clear()  # the source changed resolution: start over
        self._history.append((t, grey))
        self._peak = max(self._peak, score)
        return score

    def take(self) -> float:
        """The highest score since the last `take()`, and start the next clip's."""
        peak, self._peak = self._peak, 0.0
        return round(peak, 5)


def should_recognise(state: ClipState, visit_open: bool, policy: MotionPolicy, after_empty: bool = False) -> bool:
    """True when the clip goes to the API: something moved, a visit is open (a person standing still at
    the door is still there), the gate is off, or the clip has no score (recorded before the gate).
    `after_empty`: the clip just before this one was answered with nobody in it (no face, or still after such a
    clip); with the policy's `still_after_empty`, a still clip then stays unsent even in an open visit."""
    if not policy.enabled or state.motion is None or state.motion >= policy.threshold:
        return True
    return visit_open and not (after_empty and policy.still_after_empty)


def mark_still(state: ClipState, policy: MotionPolicy) -> None:
    """Record that a clip is not recognised because nothing moved; with `upload_still` off, that it is not
    uploaded either (both final: the clip then leaves the spool). The caller saves the state and emits
    the `recognition` event (status `skipped_still`)."""
    state.recognition.status = SKIPPED_STILL
    if not policy.upload_still:
        state.upload.status = NOT_UPLOADED
