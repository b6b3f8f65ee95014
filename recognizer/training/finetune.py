"""Fine-tune the facenet backbone on the enrolled people, as the seed did (needs torch + weights).

Faces are detected and cropped exactly as served (MTCNN on ONNX Runtime, 160x160 area resize,
(x - 127.5) / 128), a fresh logits layer is trained on top of InceptionResnetV1 started from real
vggface2 weights, and the checkpoint with the best validation accuracy is kept. The result is a
state dict (`facenet-finetuned.pt`, no logits) that the image build takes from
recognizer/weights/, and its ONNX export for the local evaluate / enrol steps.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recognizer.area_resize import AreaSampler
from recognizer.training.dataset import LabelledImage
from recognizer.detect.registry import FaceDetector
from recognizer.image_decode import ImageError, load_rgb
from recognizer.training.fit import central_face

log = logging.getLogger(__name__)

CROP = 160
FINETUNED_WEIGHTS = "facenet-finetuned.pt"


@dataclass
class FinetuneResult:
    weights: Path
    best_epoch: int
    best_val_accuracy: float
    history: list[dict]


def face_crops(detector: FaceDetector, items: list[LabelledImage], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3, 160, 160) standardised crops of each photo's central face, and label indexes."""
    crops, targets = [], []
    for item in items:
        try:
            rgb = load_rgb(item.path)
        except ImageError:
            continue
        face = central_face(detector.detect(rgb), rgb.shape[1], rgb.shape[0])
        if face is None or item.label not in labels:
            continue
        x1, y1, x2, y2 = face.box
        crop = AreaSampler(rgb).resize_regions(np.array([y1]), np.array([y2]), np.array([x1]), np.array([x2]), CROP)[0]
        crops.append(((crop - 127.5) / 128.0).transpose(2, 0, 1))
        targets.append(labels.index(item.label))
    return np.asarray(crops, dtype=np.float32).reshape(-1, 3, CROP, CROP), np.asarray(targets, dtype=np.int64)


def finetune(weights: Path, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray], n_classes: int,
             out: Path, epochs: int = 8, batch_size: int = 16, lr: float = 1e-4, seed: int = 0) -> FinetuneResult:
    """Train backbone + new logits; keep the best-val-accuracy checkpoint; write it without logits."""
    import torch

    from recognizer.export.torch_models import load_facenet

    torch.manual_seed(seed)
    model = load_facenet(weights)
    model.classify = True
    model.logits = torch.nn.Linear(512, n_classes)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_train, y_train = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    x_val, y_val = torch.from_numpy(val[0]), torch.from_numpy(val[1])
    best_state, best_acc, best_epoch, history = None, -1.0, 0, []
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            if len(idx) < 2:  # batch norm needs two samples
                continue
            batch = x_train[idx]
            flip = torch.rand(len(idx)) < 0.5  # mirror half the faces: cheap, label-preserving augmentation
            batch[flip] = batch[flip].flip(-1)
            optimiser.zero_grad()
            loss = loss_fn(model(batch), y_train[idx])
            loss.backward()
            optimiser.step()
            total += float(loss) * len(idx)
        model.eval()
        with torch.no_grad():
            accuracy = float((model(x_val).argmax(1) == y_val).float().mean()) if len(x_val) else 0.0
        history.append({"epoch": epoch, "train_loss": round(total / max(1, len(x_train)), 4), "val_accuracy": round(accuracy, 4)})
        log.info("finetune epoch", extra=history[-1])
        if accuracy > best_acc:
            best_acc, best_epoch, best_state = accuracy, epoch, copy.deepcopy(model.state_dict())
    out.mkdir(parents=True, exist_ok=True)
    path = out / FINETUNED_WEIGHTS
    torch.save({k: v for k, v in best_state.items() if not k.startswith("logits.")}, path)
    return FinetuneResult(path, best_epoch, round(best_acc, 4), history)
