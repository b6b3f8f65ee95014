"""Non-maximum suppression in numpy, matching the two flavours MTCNN uses.

`nms` follows torchvision.ops.nms (areas (x2-x1)*(y2-y1), drop IoU > threshold, keep by score
descending); `nms_min` follows facenet-pytorch's numpy "Min" variant (+1 pixel areas,
overlap = intersection / smaller area, drop overlap > threshold). `batched` keeps groups apart.
"""
from __future__ import annotations

import numpy as np


def _suppress(boxes: np.ndarray, scores: np.ndarray, threshold: float, plus_one: float, use_min: bool) -> np.ndarray:
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    x1, y1, x2, y2 = (boxes[:, i].astype(np.float64) for i in range(4))
    areas = (x2 - x1 + plus_one) * (y2 - y1 + plus_one)
    # Stable sort on -score keeps equal scores in index order, as torchvision's CPU kernel does.
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + plus_one)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + plus_one)
        inter = w * h
        denom = np.minimum(areas[i], areas[rest]) if use_min else areas[i] + areas[rest] - inter
        overlap = np.divide(inter, denom, out=np.zeros_like(inter), where=denom > 0)
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept, highest score first (torchvision.ops.nms semantics)."""
    return _suppress(boxes, scores, iou_threshold, plus_one=0.0, use_min=False)


def nms_min(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices kept with the "Min" overlap and +1 pixel areas (facenet-pytorch's last stage)."""
    return _suppress(boxes, scores, threshold, plus_one=1.0, use_min=True)


def batched(boxes: np.ndarray, scores: np.ndarray, groups: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """NMS independently per group, by offsetting each group's boxes so groups never overlap."""
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = groups.astype(boxes.dtype) * (boxes.max() + 1)
    shifted = boxes + offsets[:, None]
    return nms_min(shifted, scores, threshold) if method == "min" else nms(shifted, scores, threshold)
