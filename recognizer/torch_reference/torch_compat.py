"""Let facenet-pytorch import beside a CPU torch without torchvision.

facenet-pytorch imports torchvision only for `ops.boxes.batched_nms` and
`transforms.functional.to_tensor`; PyPI's torchvision does not import beside the CPU torch used
here. `install()` registers a minimal `torchvision` providing exactly those two functions with
torchvision's semantics (recognizer.detect.nms implements the NMS). Only the training / export / torch
runtime paths call it; serving never imports torch.
"""
from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np

from recognizer.detect import nms as np_nms


def batched_nms(boxes: Any, scores: Any, idxs: Any, iou_threshold: float) -> Any:
    """torchvision.ops.boxes.batched_nms: kept indices (int64 tensor), by decreasing score."""
    import torch

    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    keep = np_nms.batched(boxes.detach().cpu().double().numpy(), scores.detach().cpu().double().numpy(),
                          idxs.detach().cpu().numpy(), iou_threshold)
    return torch.as_tensor(keep, dtype=torch.int64, device=boxes.device)


def to_tensor(pic: Any) -> Any:
    """torchvision.transforms.functional.to_tensor for numpy HxWxC arrays (uint8 is scaled to [0, 1])."""
    import torch

    array = np.asarray(pic)
    if array.ndim == 2:
        array = array[:, :, None]
    tensor = torch.from_numpy(np.ascontiguousarray(array.transpose((2, 0, 1))))
    if tensor.dtype == torch.uint8:
        return tensor.to(dtype=torch.get_default_dtype()).div(255)
    return tensor


def install() -> None:
    """Register the stand-in modules unless a working torchvision is already importable."""
    if "torchvision" in sys.modules:
        return
    try:
        import torchvision  # noqa: F401

        return
    except Exception:  # absent, or the PyPI build that fails beside a CPU torch
        sys.modules.pop("torchvision", None)
    root = types.ModuleType("torchvision")
    ops = types.ModuleType("torchvision.ops")
    boxes = types.ModuleType("torchvision.ops.boxes")
    transforms = types.ModuleType("torchvision.transforms")
    functional = types.ModuleType("torchvision.transforms.functional")
    boxes.batched_nms = batched_nms  # type: ignore[attr-defined]
    ops.boxes = boxes  # type: ignore[attr-defined]
    functional.to_tensor = to_tensor  # type: ignore[attr-defined]
    transforms.functional = functional  # type: ignore[attr-defined]
    root.ops = ops  # type: ignore[attr-defined]
    root.transforms = transforms  # type: ignore[attr-defined]
    sys.modules.update({"torchvision": root, "torchvision.ops": ops, "torchvision.ops.boxes": boxes,
                        "torchvision.transforms": transforms, "torchvision.transforms.functional": functional})
