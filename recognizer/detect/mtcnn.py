"""MTCNN face detection served by ONNX Runtime, with the image pyramid, box regression and NMS
in numpy: the same stages and numbers as facenet-pytorch's `detect_face`, without torch.

The three networks are exported from facenet-pytorch's bundled weights by
`recognizer.export` (at image build time); P-Net takes any input size.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facegate_contract.settings import ServingSettings
from recognizer.detect import nms
from recognizer.area_resize import AreaSampler
from recognizer.model_files import ModelUnavailable, onnx_dir
from recognizer.faces import Detection
from recognizer.onnx_session import open_session

NETS = ("pnet", "rnet", "onet")


@dataclass(frozen=True)
class MtcnnSettings:
    """facenet-pytorch's MTCNN defaults, except where `from_env` says otherwise."""

    min_face: int = 20
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    factor: float = 0.709



def _normalise(chw: np.ndarray) -> np.ndarray:
    return ((chw - 127.5) * 0.0078125).astype(np.float32)


def _rerec(boxes: np.ndarray) -> np.ndarray:
    """Square the boxes around their centres (side = the longer side)."""
    boxes = boxes.copy()
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    side = np.maximum(w, h)
    boxes[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    boxes[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    boxes[:, 2] = boxes[:, 0] + side
    boxes[:, 3] = boxes[:, 1] + side
    return boxes


def _bbreg(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Apply the networks' box regression offsets."""
    boxes = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    boxes[:, 0] += reg[:, 0] * w
    boxes[:, 1] += reg[:, 1] * h
    boxes[:, 2] += reg[:, 2] * w
    boxes[:, 3] += reg[:, 3] * h
    return boxes


def _crops(sampler: AreaSampler, width: int, height: int, boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Resize each box's (clipped) region to size x size; returns (NCHW batch, indices of usable boxes)."""
    ints = np.trunc(boxes[:, :4]).astype(np.int64)
    x0, y0 = np.maximum(ints[:, 0], 1) - 1, np.maximum(ints[:, 1], 1) - 1
    x1, y1 = np.minimum(ints[:, 2], width), np.minimum(ints[:, 3], height)
    usable = np.flatnonzero((y1 > y0) & (x1 > x0))
    if usable.size == 0:
        return np.zeros((0, 3, size, size), np.float32), usable
    patches = sampler.resize_regions(y0[usable], y1[usable], x0[usable], x1[usable], size)
    return _normalise(patches.transpose(0, 3, 1, 2)), usable


class MtcnnOnnxDetector:
    """FaceDetector: MTCNN on ONNX Runtime. Boxes, scores and five landmarks per face."""

    name = "mtcnn-onnx"

    def __init__(self, model_dir: Path, settings: MtcnnSettings = MtcnnSettings(), threads: int = 1) -> None:
        """`threads`: ONNX Runtime intra-op threads; 1 measured fastest for these small nets on 2 vCPUs."""
        missing = [n for n in NETS if not (model_dir / f"{n}.onnx").exists()]
        if missing:
            raise ModelUnavailable(f"MTCNN networks {missing} not found in {model_dir}: "
                                   "export them with `python -m recognizer.export --out DIR`")
        self._nets = {n: open_session(model_dir / f"{n}.onnx", threads) for n in NETS}
        self.settings = settings

    def _run(self, net: str, batch: np.ndarray) -> list[np.ndarray]:
        return self._nets[net].run(None, {"input": batch})

    def detect_raw(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(boxes (n, 5): x1, y1, x2, y2, score as floats; landmarks (n, 5, 2)) exactly as MTCNN gives them."""
        sampler = AreaSampler(rgb)
        height, width = rgb.shape[:2]
        boxes = self._stage_one(sampler, width, height)
        if len(boxes):
            boxes = self._stage_two(sampler, width, height, boxes)
        if len(boxes) == 0:
            return np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32)
        return self._stage_three(sampler, width, height, boxes)

    def _scales(self, height: int, width: int) -> list[float]:
        m = 12.0 / self.settings.min_face
        min_side = min(height, width) * m
        scales, scale = [], m
        while min_side >= 12:
            scales.append(scale)
            scale *= self.settings.factor
            min_side *= self.settings.factor
        return scales

    def _stage_one(self, sampler: AreaSampler, width: int, height: int) -> np.ndarray:
        found = []
        for scale in self._scales(height, width):
            resized = sampler.resize(int(height * scale + 1), int(width * scale + 1))
            reg, prob = self._run("pnet", _normalise(resized.transpose(2, 0, 1))[None])
            candidates = _candidate_boxes(reg[0], prob[0, 1], scale, self.settings.thresholds[0])
            found.append(candidates[nms.nms(candidates[:, :4], candidates[:, 4], 0.5)])
        boxes = np.concatenate(found) if found else np.zeros((0, 9), np.float32)
        boxes = boxes[nms.nms(boxes[:, :4], boxes[:, 4], 0.7)]
        regw = boxes[:, 2] - boxes[:, 0]
        regh = boxes[:, 3] - boxes[:, 1]
        refined = np.stack([boxes[:, 0] + boxes[:, 5] * regw, boxes[:, 1] + boxes[:, 6] * regh,
                            boxes[:, 2] + boxes[:, 7] * regw, boxes[:, 3] + boxes[:, 8] * regh, boxes[:, 4]], axis=1)
        return _rerec(refined.astype(np.float32))

    def _stage_two(self, sampler: AreaSampler, width: int, height: int, boxes: np.ndarray) -> np.ndarray:
        batch, usable = _crops(sampler, width, height, boxes, 24)
        if len(usable) == 0:
            return np.zeros((0, 5), np.float32)
        reg, prob = self._run("rnet", batch)
        score = prob[:, 1]
        passed = score > self.settings.thresholds[1]
        kept = np.concatenate([boxes[usable][passed, :4], score[passed, None]], axis=1).astype(np.float32)
        reg = reg[passed]
        pick = nms.nms(kept[:, :4], kept[:, 4], 0.7)
        return _rerec(_bbreg(kept[pick], reg[pick]))

    def _stage_three(self, sampler: AreaSampler, width: int, height: int,
                     boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        batch, usable = _crops(sampler, width, height, boxes, 48)
        if len(usable) == 0:
            return np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32)
        reg, points, prob = self._run("onet", batch)
        score = prob[:, 1]
        passed = score > self.settings.thresholds[2]
        kept = np.concatenate([boxes[usable][passed, :4], score[passed, None]], axis=1).astype(np.float32)
        points, reg = points[passed], reg[passed]
        w = kept[:, 2] - kept[:, 0] + 1
        h = kept[:, 3] - kept[:, 1] + 1
        xs = w[:, None] * points[:, :5] + kept[:, 0:1] - 1
        ys = h[:, None] * points[:, 5:10] + kept[:, 1:2] - 1
        landmarks = np.stack([xs, ys], axis=2)
        kept = _bbreg(kept, reg)
        pick = nms.nms_min(kept[:, :4], kept[:, 4], 0.7)
        return kept[pick], landmarks[pick]

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Every face, largest first, with its box clipped to the frame."""
        boxes, landmarks = self.detect_raw(rgb)
        return to_detections(boxes, landmarks, rgb.shape[1], rgb.shape[0])


def _candidate_boxes(reg: np.ndarray, prob: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """P-Net cells over the threshold as boxes in image coordinates, with score and regression."""
    stride, cell = 2, 12
    ys, xs = np.nonzero(prob >= threshold)
    cells = np.stack([xs, ys], axis=1).astype(np.float32)
    scale32 = np.float32(scale)
    q1 = np.floor((stride * cells + 1) / scale32)
    q2 = np.floor((stride * cells + cell - 1 + 1) / scale32)
    return np.concatenate([q1, q2, prob[ys, xs, None], reg[:, ys, xs].T], axis=1).astype(np.float32)


def to_detections(boxes: np.ndarray, landmarks: np.ndarray, width: int, height: int) -> list[Detection]:
    """Float MTCNN boxes → Detection objects with integer boxes clipped to the frame, largest first."""
    found = []
    for box, points in zip(boxes, landmarks):
        x1, y1 = max(0, int(round(float(box[0])))), max(0, int(round(float(box[1]))))
        x2, y2 = min(width, int(round(float(box[2])))), min(height, int(round(float(box[3]))))
        if x2 > x1 and y2 > y1:
            found.append(Detection(box=(x1, y1, x2, y2), score=float(box[4]),
                                   landmarks=tuple((float(px), float(py)) for px, py in points)))
    return sorted(found, key=lambda d: d.area, reverse=True)


def make(settings: ServingSettings) -> MtcnnOnnxDetector:
    """The registry's factory: the exported networks, the configured smallest face and threads."""
    return MtcnnOnnxDetector(onnx_dir(settings), MtcnnSettings(min_face=settings.min_face), threads=settings.threads)
