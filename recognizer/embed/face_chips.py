"""Aligned face chips as dlib cuts them for its face descriptor, in numpy.

Follows dlib's get_face_chip_details (5-point template, padding, similarity transform to a
rotated rectangle) and extract_image_chips (one shared crop of the frame for all chips, a 2:1
image pyramid when a chip is much smaller than its rectangle, bilinear sampling truncated to
uint8, black outside the frame), from dlib/image_transforms/interpolation.h and image_pyramid.h.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recognizer.embed.similarity import SimilarityFit

CHIP_SIZE = 150  # what dlib's compute_face_descriptor uses
PADDING = 0.25

# dlib's 5-point landmark positions in a unit chip (get_face_chip_details): the image-right eye's
# outer and inner corners, the image-left eye's outer and inner corners, the base of the nose.
DLIB_5_POINT_TEMPLATE = np.array([
    [0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
    [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
    [0.4901123135679, 0.6277975316475]])


@dataclass(frozen=True)
class ChipDetails:
    """dlib's chip_details: where in the frame a chip comes from."""

    rect: tuple[float, float, float, float]  # left, top, right, bottom (dlib drectangle)
    angle: float
    rows: int
    cols: int


def _chip_template(template: np.ndarray, size: int, padding: float) -> np.ndarray:
    return (padding + template) / (2 * padding + 1) * size


def chip_details(landmarks: np.ndarray, template: np.ndarray = DLIB_5_POINT_TEMPLATE,
                 size: int = CHIP_SIZE, padding: float = PADDING) -> list[ChipDetails]:
    """dlib's get_face_chip_details for each face's landmarks (n, P, 2), P matching `template`."""
    landmarks = np.asarray(landmarks, dtype=np.float64).reshape(-1, len(template), 2)
    m, t = SimilarityFit(_chip_template(template, size, padding)).transforms(landmarks)
    details = []
    for mi, ti in zip(m, t):
        # The chip's rotation and scale from where the chip x axis lands; its centre in the frame.
        axis_x = mi[:, 0]
        scale = math.hypot(axis_x[0], axis_x[1])
        centre = mi @ np.array([size / 2.0, size / 2.0]) + ti
        details.append(ChipDetails(_centred_rect(centre, size * scale, size * scale),
                                   math.atan2(axis_x[1], axis_x[0]), size, size))
    return details


def _centred_rect(centre: np.ndarray, width: float, height: float) -> tuple[float, float, float, float]:
    # dlib's centered_drect: a drectangle's width counts both end pixels, hence the -1.
    half_w, half_h = (width - 1) / 2, (height - 1) / 2
    return (centre[0] - half_w, centre[1] - half_h, centre[0] + half_w, centre[1] + half_h)


def _area(rect: tuple[float, float, float, float]) -> float:
    left, top, right, bottom = rect
    return 0.0 if left > right or top > bottom else (right - left + 1) * (bottom - top + 1)


def _rect_down(rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    # pyramid_down<2>::rect_down: each corner p -> p / 2 - (1.25, 0.75)
    left, top, right, bottom = rect
    return (left / 2 - 1.25, top / 2 - 0.75, right / 2 - 1.25, bottom / 2 - 0.75)


def _rotated_corners(rect: tuple[float, float, float, float], angle: float) -> np.ndarray:
    """tl, tr, bl, br of `rect` turned by `angle` about its centre (dlib's rotate_point)."""
    left, top, right, bottom = rect
    centre = np.array([(left + right) / 2, (top + bottom) / 2])
    corners = np.array([[left, top], [right, top], [left, bottom], [right, bottom]]) - centre
    cos, sin = math.cos(angle), math.sin(angle)
    return np.stack([cos * corners[:, 0] - sin * corners[:, 1], sin * corners[:, 0] + cos * corners[:, 1]], axis=1) + centre


def pyramid_down(image: np.ndarray) -> np.ndarray:
    """dlib's pyramid_down<2> for RGB: a 5-tap [1 4 6 4 1] filter each way, every other pixel kept,
    integer sums divided by 256 with truncation."""
    height, width = image.shape[:2]
    if height <= 8 or width <= 8:
        return np.zeros((0, 0, 3), np.uint8)
    src = image.astype(np.int32)
    cols = (width - 3) // 2
    even = lambda k: src[:, k:k + 2 * cols:2]  # noqa: E731 - columns k, k+2, ... for each output column
    rows_filtered = even(0) + 4 * even(1) + 6 * even(2) + 4 * even(3) + even(4)
    rows = (height - 3) // 2
    pick = lambda k: rows_filtered[k:k + 2 * rows:2]  # noqa: E731
    return ((pick(0) + 4 * pick(1) + 6 * pick(2) + 4 * pick(3) + pick(4)) // 256).astype(np.uint8)


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dlib's interpolate_bilinear at points (x, y): float64 weights, truncated to uint8, and 0
    where the 2x2 neighbourhood leaves the image. Same operation order as dlib:
    (1 - fy) * ((1 - fx) * tl + fx * tr) + fy * ((1 - fx) * bl + fx * br)."""
    height, width = image.shape[:2]
    if height < 2 or width < 2:  # nothing to interpolate from (e.g. the chip lies outside the frame)
        return np.zeros(x.shape + (image.shape[2],), np.uint8)
    left, top = np.floor(x), np.floor(y)
    inside = (left >= 0) & (top >= 0) & (left + 1 < width) & (top + 1 < height)
    index = np.where(inside, top * width + left, 0).astype(np.intp)[..., None]
    flat = image.reshape(-1, image.shape[2])
    fx, fy = (x - left)[..., None], (y - top)[..., None]
    gx, gy = 1 - fx, 1 - fy
    upper = np.take(flat, index[..., 0], axis=0) * gx
    upper += np.take(flat, index[..., 0] + 1, axis=0) * fx
    lower = np.take(flat, index[..., 0] + width, axis=0) * gx
    lower += np.take(flat, index[..., 0] + width + 1, axis=0) * fx
    upper *= gy
    lower *= fy
    upper += lower
    upper *= inside[..., None]
    return upper.astype(np.uint8)


def _affine_from_corners(rows: int, cols: int, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The affine map taking chip corners (0,0), (cols-1,0), (0,rows-1) to `corners` (tl, tr, bl)."""
    chip = np.array([[0.0, 0.0, 1.0], [cols - 1.0, 0.0, 1.0], [0.0, rows - 1.0, 1.0]])
    solution = np.linalg.solve(chip, corners)  # (3, 2): rows are the x, y and constant coefficients
    return solution[:2].T, solution[2]


def _lround(value: float) -> int:
    return int(math.floor(value + 0.5)) if value >= 0 else -int(math.floor(-value + 0.5))


def extract_chips(rgb: np.ndarray, details: list[ChipDetails]) -> np.ndarray:
    """dlib's extract_image_chips with bilinear interpolation: (n, rows, cols, 3) uint8 chips.

    Chips of one call share dlib's crop and pyramid, so pass all faces of a frame together to
    get exactly what dlib's compute_face_descriptor computes for that frame.
    """
    if not details:
        return np.zeros((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
    height, width = rgb.shape[:2]
    box = _shared_crop(details, width, height)
    crop = rgb[box[1]:box[3] + 1, box[0]:box[2] + 1]
    pyramid = [crop]
    chips = np.zeros((len(details), details[0].rows, details[0].cols, 3), np.uint8)
    for i, d in enumerate(details):
        size = d.rows * d.cols
        if d.angle == 0 and d.rows == d.rect[3] - d.rect[1] + 1 and d.cols == d.rect[2] - d.rect[0] + 1:
            chips[i] = _copy_rect(rgb, d)
            continue
        # The pyramid level where the chip's rectangle is first no bigger than the chip.
        rect = (d.rect[0] - box[0], d.rect[1] - box[1], d.rect[2] - box[0], d.rect[3] - box[1])
        level = 0
        while _area(_rect_down(rect)) > size:
            level += 1
            rect = _rect_down(rect)
        while len(pyramid) <= level:
            pyramid.append(pyramid_down(pyramid[-1]))
        corners = _rotated_corners(rect, d.angle)[:3]
        m, b = _affine_from_corners(d.rows, d.cols, corners)
        r, c = np.mgrid[0:d.rows, 0:d.cols].astype(np.float64)
        # dlib's point_transform_affine: m * p + b
        x = (m[0, 0] * c + m[0, 1] * r) + b[0]
        y = (m[1, 0] * c + m[1, 1] * r) + b[1]
        chips[i] = _bilinear(pyramid[level], x, y)
    return chips


def _shared_crop(details: list[ChipDetails], width: int, height: int) -> tuple[int, int, int, int]:
    """The integer frame region dlib crops once for all chips: each chip's rotated rectangle,
    grown by a margin that covers the pyramid's filter at the depth that chip needs."""
    box = None
    for d in details:
        grow, rect = 2.0, _rect_down(d.rect)
        while _area(rect) > d.rows * d.cols:
            rect = _rect_down(rect)
            grow = grow * 2 + 2
        corners = _rotated_corners(d.rect, d.angle)
        grown = (max(corners[:, 0].min() - grow, 0), max(corners[:, 1].min() - grow, 0),
                 min(corners[:, 0].max() + grow, width - 1), min(corners[:, 1].max() + grow, height - 1))
        part = (_lround(grown[0]), _lround(grown[1]), _lround(grown[2]), _lround(grown[3]))
        if part[0] > part[2] or part[1] > part[3]:
            continue  # a chip wholly outside the frame adds nothing
        box = part if box is None else (min(box[0], part[0]), min(box[1], part[1]),
                                        max(box[2], part[2]), max(box[3], part[3]))
    return box if box is not None else (0, 0, -1, -1)


def _copy_rect(rgb: np.ndarray, d: ChipDetails) -> np.ndarray:
    """dlib's basic_extract_image_chip: an unscaled, unrotated copy, black outside the frame."""
    left, top = _lround(d.rect[0]), _lround(d.rect[1])
    chip = np.zeros((d.rows, d.cols, 3), np.uint8)
    height, width = rgb.shape[:2]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + d.rows, height), min(left + d.cols, width)
    if y1 > y0 and x1 > x0:
        chip[y0 - top:y1 - top, x0 - left:x1 - left] = rgb[y0:y1, x0:x1]
    return chip


def face_chips(rgb: np.ndarray, landmarks: np.ndarray, template: np.ndarray = DLIB_5_POINT_TEMPLATE,
               size: int = CHIP_SIZE, padding: float = PADDING) -> np.ndarray:
    """(n, size, size, 3) uint8 aligned chips for the faces' landmarks (n, P, 2), all in one
    extraction as dlib's compute_face_descriptor does for a frame's faces."""
    return extract_chips(rgb, chip_details(landmarks, template, size, padding))
