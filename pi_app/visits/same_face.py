"""Whether a new frame still shows the same face(s) as a recognised one: a cheap on-device check, no model.

Once a visit is decided and acted on, sending each further clip of the same person standing there changes
nothing (pi_app.visits.tracking_skip). This module answers the part that needs pixels: is every face of the
reference answer still where it was (normalised cross-correlation of the face, found again within about one face
size of its box, on small grey frames), with nothing moving elsewhere in the frame (outside the faces' head and
shoulders: someone stepping in), measured with the motion gate's own measure (pi_app.recording.motion_gate)?

BIOMETRIC. A `FaceReference` holds a small grey copy of a frame with a face in it: it lives in memory only (never on
disk, in an event or in a log line).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pi_app.recording.motion_gate import motion_score, small_grey
from pi_app.visits.evidence import Box

MATCH_WIDTH = 320  # pixels: a 45 px face at 640 is 22 px here, enough texture for the correlation
MOTION_WIDTH = 160  # the motion gate's own small frame (motion_gate.SMALL_WIDTH): its threshold holds here
# Normalised cross-correlation a face must reach where it is found again. Measured on the hard doorway and the
# identity fixtures (scripts/bench/same_face.py): see docs/tracking-decided-visits.md for the figures.
MATCH_THRESHOLD = 0.9
MIN_CONTRAST = 6.0  # grey levels (std) a face template needs: a dark or flat patch matches anything
SEARCH_MARGIN = 1.0  # face sizes around the reference box where the face is looked for
OTHER_MOTION = 0.002  # moving fraction outside the faces' region: the motion gate's default threshold
# The region a present person moves in besides the face (head turning, shoulders, arms): in face sizes around the
# face box, sideways, above and below. Motion there is the tracked person; anywhere else it may be someone else.
BODY_SIDE, BODY_ABOVE, BODY_BELOW = 1.5, 1.0, 4.0


@dataclass(frozen=True)
class FaceReference:
    """A recognised frame as the check needs it: small grey copies and the answer's face boxes (in the sent
    frame's pixels, the same frame `width` wide)."""

    match_grey: np.ndarray
    motion_grey: np.ndarray
    width: int  # the sent frame's width: boxes are in its pixels
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class SameFaces:
    """The check's outcome: `same` when every face was found again and nothing else moved; `boxes` where each
    face was found (sent-frame pixels, the reference's order); `scores` the correlation per face; `motion` the
    moving fraction outside the faces' region; `reason` why not (empty when same)."""

    same: bool
    boxes: tuple[Box, ...] = ()
    scores: tuple[float, ...] = ()
    motion: float | None = None
    reason: str = ""


def reference_of(rgb: np.ndarray, boxes: tuple[Box, ...]) -> FaceReference:
    """What to keep of a recognised frame (`rgb`, the frame sent) and its answer's face boxes."""
    return FaceReference(small_grey(rgb, MATCH_WIDTH), small_grey(rgb, MOTION_WIDTH), rgb.shape[1], boxes)


def same_faces(reference: FaceReference, rgb: np.ndarray, threshold: float = MATCH_THRESHOLD,
               other_motion: float = OTHER_MOTION) -> SameFaces:
    """Whether `rgb` (a later chosen frame, the same size as the reference's) shows the reference's faces where
    they were and nothing moving elsewhere; a face that cannot be told (too dark or flat, at the frame's edge)
    is not the same: the caller then recognises the clip."""
    if not reference.boxes:
        return SameFaces(False, reason="no_faces")
    if rgb.shape[1] != reference.width:
        return SameFaces(False, reason="frame_size")
    grey = small_grey(rgb, MATCH_WIDTH)
    if grey.shape != reference.match_grey.shape:
        return SameFaces(False, reason="frame_size")
    scale = MATCH_WIDTH / reference.width
    found, scores = [], []
    for box in reference.boxes:
        place = _find(reference.match_grey, grey, box, scale)
        if place is None:
            return SameFaces(False, reason="no_texture")
        score, moved = place
        scores.append(round(score, 4))
        if score < threshold:
            return SameFaces(False, scores=tuple(scores), reason="face_changed")
        found.append(moved)
    if _collide(reference.boxes, found):
        return SameFaces(False, scores=tuple(scores), reason="faces_merged")
    motion = _motion_elsewhere(reference, small_grey(rgb, MOTION_WIDTH), found)
    if motion >= other_motion:
        return SameFaces(False, tuple(found), tuple(scores), motion, "motion_elsewhere")
    return SameFaces(True, tuple(found), tuple(scores), motion)


def _find(before: np.ndarray, after: np.ndarray, box: Box, scale: float) -> tuple[float, Box] | None:
    """The best correlation of `box`'s patch of `before` within about one face size of it in `after`, and the
    box moved there (sent-frame pixels); None when the patch is too small, flat or cut by the frame's edge."""
    height, width = before.shape
    x1, y1 = round(box.x1 * scale), round(box.y1 * scale)
    x2, y2 = round(box.x2 * scale), round(box.y2 * scale)
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height or x2 - x1 < 6 or y2 - y1 < 6:
        return None
    template = before[y1:y2, x1:x2]
    if float(template.std()) < MIN_CONTRAST:
        return None
    margin = round(max(x2 - x1, y2 - y1) * SEARCH_MARGIN)
    sx1, sy1 = max(0, x1 - margin), max(0, y1 - margin)
    sx2, sy2 = min(width, x2 + margin), min(height, y2 + margin)
    window = after[sy1:sy2, sx1:sx2]
    result = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(result)
    if not np.isfinite(best):  # a flat window: nothing there to correlate with
        return None
    dx, dy = (sx1 + bx - x1) / scale, (sy1 + by - y1) / scale
    return float(best), Box(box.x1 + dx, box.y1 + dy, box.x2 + dx, box.y2 + dy)


def _collide(before: tuple[Box, ...], after: list[Box]) -> bool:
    """True when two faces that were apart were found on one spot (one of them is gone: fewer faces now)."""
    for i in range(len(after)):
        for j in range(i + 1, len(after)):
            if after[i].iou(after[j]) > 0.5 and before[i].iou(before[j]) <= 0.5:
                return True
    return False


def _motion_elsewhere(reference: FaceReference, grey: np.ndarray, faces: list[Box]) -> float:
    """The motion gate's score between the two frames with the faces' head-and-shoulders regions (where they were
    and where they are) left out: those pixels are taken from the reference, so they never count as changed."""
    scale = grey.shape[1] / reference.width
    mask = np.zeros(grey.shape, bool)
    for box in (*reference.boxes, *faces):
        side = box.size
        x1, x2 = int((box.x1 - BODY_SIDE * side) * scale), int(np.ceil((box.x2 + BODY_SIDE * side) * scale))
        y1, y2 = int((box.y1 - BODY_ABOVE * side) * scale), int(np.ceil((box.y2 + BODY_BELOW * side) * scale))
        mask[max(0, y1):max(0, y2), max(0, x1):max(0, x2)] = True
    after = grey.copy()
    after[mask] = reference.motion_grey[mask]
    return motion_score(reference.motion_grey, after)
