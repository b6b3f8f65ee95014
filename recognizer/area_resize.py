"""Resize exactly like torch's interpolate(mode="area") (adaptive average pooling), fast.

MTCNN's weights were trained and are evaluated with this resampling; OpenCV's INTER_AREA
weights fractional pixels differently, which moves boxes. Every output pixel of adaptive
pooling is the mean of an integer-bounded rectangle, so one integral image per frame gives the
whole pyramid and every face crop by gathering four corners per output pixel.
"""
from __future__ import annotations

import numpy as np


def pool_bins(n_in: np.ndarray | int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) input index of each output cell, as torch computes them."""
    i = np.arange(n_out)
    n = np.asarray(n_in)[..., None]
    start = (i * n) // n_out
    end = -((-(i + 1) * n) // n_out)  # ceil((i + 1) * n_in / n_out)
    return start, end


class AreaSampler:
    """An integral image of one HxWxC uint8 frame; window sums are exact integers.

    int32 is exact up to 8.4 M pixels (sums of 255s below 2**31) and faster; larger frames use int64.
    """

    def __init__(self, image: np.ndarray) -> None:
        if image.dtype != np.uint8:
            raise TypeError(f"AreaSampler needs uint8 pixels, got {image.dtype}")
        height, width = image.shape[:2]
        dtype = np.int32 if height * width * 255 < 2**31 else np.int64
        self._ii = np.zeros((height + 1, width + 1, image.shape[2]), dtype=dtype)
        np.cumsum(np.cumsum(image, axis=0, dtype=dtype), axis=1, out=self._ii[1:, 1:])

    def _means(self, r0: np.ndarray, r1: np.ndarray, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
        ii = self._ii
        total = ii[r1, c1] - ii[r0, c1] - ii[r1, c0] + ii[r0, c0]
        return (total / ((r1 - r0) * (c1 - c0))[..., None]).astype(np.float32)

    def resize(self, out_h: int, out_w: int) -> np.ndarray:
        """The whole frame resized to out_h x out_w (HxWxC float32)."""
        height, width = self._ii.shape[0] - 1, self._ii.shape[1] - 1
        rs, re = pool_bins(height, out_h)
        cs, ce = pool_bins(width, out_w)
        # Separable: whole-row slices first, then columns (np.take is far cheaper than 2-D gathers).
        rows = np.take(self._ii, re, axis=0) - np.take(self._ii, rs, axis=0)
        sums = np.take(rows, ce, axis=1) - np.take(rows, cs, axis=1)
        area = ((re - rs)[:, None] * (ce - cs)[None, :])[..., None]
        return (sums / area).astype(np.float32)

    def resize_regions(self, y0: np.ndarray, y1: np.ndarray, x0: np.ndarray, x1: np.ndarray, size: int) -> np.ndarray:
        """Each region [y0:y1, x0:x1] resized to size x size: (n, size, size, C) float32."""
        rs, re = pool_bins(y1 - y0, size)
        cs, ce = pool_bins(x1 - x0, size)
        rows0, rows1 = (y0[:, None] + rs)[:, :, None], (y0[:, None] + re)[:, :, None]
        cols0, cols1 = (x0[:, None] + cs)[:, None, :], (x0[:, None] + ce)[:, None, :]
        return self._means(rows0, rows1, cols0, cols1)


def area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an HxWxC array like torch's interpolate(mode="area"); float32 result."""
    return AreaSampler(image).resize(height, width)
