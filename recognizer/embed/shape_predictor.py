"""dlib's regression-tree face landmark predictor (shape_predictor) in numpy, from the npz written
by `recognizer.export.dlib_shape_predictor_to_npz`. Same arithmetic as dlib's
shape_predictor::operator() (float32 shapes, integer pixel intensities, rounded pixel positions),
so the landmarks come out as dlib's: whole pixels.

All faces of a frame go through the cascade together; the trees of one cascade level are walked
together, one depth level per numpy step.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recognizer.embed.similarity import SimilarityFit

FILE_NAME = "shape_predictor_5.npz"


@dataclass(frozen=True)
class _Level:
    """One cascade level as flat, contiguous tables: node n of tree t is entry t * S + n, leaf l
    of tree t is row t * L + l (so one gather walks all trees a step)."""

    first: np.ndarray  # (T * S,) feature index of each split's first pixel
    second: np.ndarray  # (T * S,)
    threshold: np.ndarray  # (T * S,) float32
    leaves: np.ndarray  # (T * L, P * 2) float32
    anchor: np.ndarray  # (F,) the shape point each feature pixel hangs from
    dx: np.ndarray  # (F,) float32 offset from that point, in the initial shape's frame
    dy: np.ndarray


class ShapePredictor:
    """Face landmarks (dlib's 5-point model) for face boxes in an RGB frame."""

    def __init__(self, path: Path) -> None:
        with np.load(path) as arrays:
            self.initial_shape = arrays["initial_shape"].astype(np.float32)  # (P, 2), box-normalised
            split_index = arrays["split_index"]  # (C, T, S, 2)
            split_threshold = arrays["split_threshold"]  # (C, T, S)
            leaf_values = arrays["leaf_values"]  # (C, T, L, P, 2)
            anchor_index = arrays["anchor_index"]  # (C, F)
            deltas = arrays["deltas"]  # (C, F, 2)
        _, trees, splits, _ = split_index.shape
        leaves = leaf_values.shape[2]
        self.depth = int(np.log2(leaves))
        self._levels = [
            _Level(first=np.ascontiguousarray(split_index[c, ..., 0].reshape(-1), np.int32),
                   second=np.ascontiguousarray(split_index[c, ..., 1].reshape(-1), np.int32),
                   threshold=np.ascontiguousarray(split_threshold[c].reshape(-1), np.float32),
                   leaves=np.ascontiguousarray(leaf_values[c].reshape(trees * leaves, -1), np.float32),
                   anchor=np.ascontiguousarray(anchor_index[c], np.int32),
                   dx=np.ascontiguousarray(deltas[c, :, 0], np.float32),
                   dy=np.ascontiguousarray(deltas[c, :, 1], np.float32))
            for c in range(split_index.shape[0])]
        self._node_base = np.arange(trees, dtype=np.intp) * splits
        self._leaf_base = np.arange(trees, dtype=np.intp) * leaves - splits
        self._similarity = SimilarityFit(self.initial_shape)

    @property
    def num_parts(self) -> int:
        return self.initial_shape.shape[0]

    def predict(self, rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(n, parts, 2) landmark (x, y) pixel positions for `boxes` (n, 4): left, top, right,
        bottom as dlib.rectangle takes them (inclusive corners)."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if len(boxes) == 0:
            return np.zeros((0, self.num_parts, 2), np.float64)
        # dlib's unnormalizing_tform: (0,0) -> top-left corner, (1,1) -> bottom-right corner.
        origin = boxes[:, None, :2]
        extent = (boxes[:, 2:] - boxes[:, :2])[:, None, :]
        grey_lookup = _GreyLookup(rgb)
        shape = np.broadcast_to(self.initial_shape, (len(boxes),) + self.initial_shape.shape).copy()
        for level in self._levels:
            features = self._pixel_features(grey_lookup, level, shape, origin, extent)
            shape = self._apply_forest(level, features, shape)
        return np.floor(extent * shape.astype(np.float64) + origin + 0.5)

    def _pixel_features(self, grey: "_GreyLookup", level: _Level, shape: np.ndarray,
                        origin: np.ndarray, extent: np.ndarray) -> np.ndarray:
        """Grey levels at this level's feature pixels, placed relative to the current shape."""
        m = self._similarity.matrices(shape).astype(np.float32)  # (n, 2, 2)
        anchors = np.take(shape, level.anchor, axis=1)  # (n, F, 2)
        # float32 like dlib: (tform * delta) + anchor point, then to pixels in double, rounded.
        px = (m[:, 0, 0, None] * level.dx + m[:, 0, 1, None] * level.dy) + anchors[..., 0]
        py = (m[:, 1, 0, None] * level.dx + m[:, 1, 1, None] * level.dy) + anchors[..., 1]
        x = np.floor(extent[..., 0] * px.astype(np.float64) + origin[..., 0] + 0.5)
        y = np.floor(extent[..., 1] * py.astype(np.float64) + origin[..., 1] + 0.5)
        return grey(x, y)

    def _apply_forest(self, level: _Level, features: np.ndarray, shape: np.ndarray) -> np.ndarray:
        """Walk every tree of this cascade level and add the leaves to the shape, in tree order."""
        # Every split's test at once (cheaper than gathering per depth step), then the walks.
        goes_left = (np.take(features, level.first, axis=1) - np.take(features, level.second, axis=1)) > level.threshold
        rows = np.arange(features.shape[0])[:, None]
        node = np.zeros((features.shape[0], self._node_base.size), np.intp)
        for _ in range(self.depth):
            node = 2 * node + 2 - goes_left[rows, self._node_base + node]
        leaves = np.take(level.leaves, self._leaf_base + node, axis=0).reshape(node.shape + shape.shape[1:])
        # dlib adds the trees' outputs one after another in float32; a cumulative sum keeps that order.
        return np.cumsum(np.concatenate([shape[:, None], leaves], axis=1), axis=1, dtype=np.float32)[:, -1]


class _GreyLookup:
    """dlib's grey level ((r + g + b) / 3, integer) at whole-pixel positions; 0 outside the frame."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.height, self.width = rgb.shape[:2]
        self._pixels = rgb.reshape(-1, 3)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        inside = (x >= 0) & (x <= self.width - 1) & (y >= 0) & (y <= self.height - 1)
        index = np.where(inside, y * self.width + x, 0).astype(np.intp)
        pixels = np.take(self._pixels, index, axis=0).astype(np.uint16)
        grey = (pixels[..., 0] + pixels[..., 1] + pixels[..., 2]) // 3
        return np.where(inside, grey, 0).astype(np.float32)
