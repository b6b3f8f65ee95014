"""The torchvision stand-ins facenet-pytorch needs, checked against reference semantics."""
from __future__ import annotations

import numpy as np
import pytest

from recognizer.detect import nms

torch = pytest.importorskip("torch")


def _reference_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """The textbook greedy NMS torchvision documents: IoU with (x2-x1)*(y2-y1) areas."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            xx1, yy1 = max(boxes[i, 0], boxes[j, 0]), max(boxes[i, 1], boxes[j, 1])
            xx2, yy2 = min(boxes[i, 2], boxes[j, 2]), min(boxes[i, 3], boxes[j, 3])
            inter = max(0.0, xx2 - xx1) * max(0.0, yy2 - yy1)
            area = lambda k: (boxes[k, 2] - boxes[k, 0]) * (boxes[k, 3] - boxes[k, 1])  # noqa: E731
            if inter / (area(i) + area(j) - inter) > threshold:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


def _random_boxes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(5, 40, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1), rng.uniform(0, 1, n)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_matches_the_reference(threshold: float) -> None:
    rng = np.random.default_rng(int(threshold * 10))
    boxes, scores = _random_boxes(rng, 200)
    assert nms.nms(boxes, scores, threshold).tolist() == _reference_nms(boxes, scores, threshold)


def test_batched_nms_keeps_groups_apart() -> None:
    from recognizer.torch_reference.torch_compat import batched_nms

    box = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    assert batched_nms(box, scores, torch.tensor([0, 1, 0]), 0.5).tolist() == [0, 1]
    assert batched_nms(box, scores, torch.tensor([0, 0, 0]), 0.5).tolist() == [0]
    assert batched_nms(box[:0], scores[:0], torch.tensor([], dtype=torch.int64), 0.5).numel() == 0


def test_min_nms_uses_the_smaller_area() -> None:
    boxes = np.array([[0, 0, 99, 99], [10, 10, 29, 29]], dtype=np.float32)  # small box fully inside
    scores = np.array([0.9, 0.8])
    assert nms.nms(boxes, scores, 0.7).tolist() == [0, 1]  # IoU is small
    assert nms.nms_min(boxes, scores, 0.7).tolist() == [0]  # overlap/min area is 1


def test_to_tensor_scales_uint8_only() -> None:
    from recognizer.torch_reference.torch_compat import to_tensor

    image = np.full((4, 5, 3), 255, dtype=np.uint8)
    assert to_tensor(image).shape == (3, 4, 5) and float(to_tensor(image).max()) == 1.0
    assert float(to_tensor(image.astype(np.float32)).max()) == 255.0
