"""`facegate train --backend facenet --finetune` end to end on a few real photos.

No vggface2 weights can be downloaded here, so the weights file is a seeded random
initialisation: this exercises the machinery (crops, training, best-val checkpoint, export,
classifier), not the accuracy a real starting point gives.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")


def _small_dataset(lfw_dev: Path, root: Path, people: int = 3, per_person: int = 4) -> Path:
    for split, count in (("training", per_person), ("val", 2)):
        for person in sorted((lfw_dev / "training").iterdir())[:people]:
            target = root / split / person.name
            target.mkdir(parents=True)
            for photo in sorted((lfw_dev / split / person.name).glob("*.jpg"))[:count]:
                shutil.copy(photo, target / photo.name)
    return root


def test_finetune_keeps_the_best_checkpoint_and_builds_a_facenet_model(lfw_dev: Path, tmp_path: Path) -> None:
    from recognizer.torch_reference.torch_compat import install

    install()
    facenet_pytorch = pytest.importorskip("facenet_pytorch")
    torch.manual_seed(0)
    weights = tmp_path / "weights.pt"
    torch.save(facenet_pytorch.InceptionResnetV1(pretrained=None).state_dict(), weights)
    data = _small_dataset(lfw_dev, tmp_path / "data")
    out = tmp_path / "model"
    result = subprocess.run([sys.executable, "-m", "facegate_cli", "train", "--data", str(data), "--out", str(out),
                             "--backend", "facenet", "--finetune", "--weights", str(weights), "--epochs", "2"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert {"classifier.npz", "labels.json", "metrics.json", "facenet.onnx", "facenet-finetuned.pt"} <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    history = metrics["finetune"]["history"]
    assert len(history) == 2
    assert metrics["finetune"]["best_val_accuracy"] == max(h["val_accuracy"] for h in history)
    assert metrics["backend"] == "facenet" and metrics["people"] == 3
    state = torch.load(out / "facenet-finetuned.pt", weights_only=True)
    assert not any(k.startswith("logits.") for k in state)


def test_finetune_without_weights_is_refused(lfw_dev: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "facegate_cli", "train", "--data", str(lfw_dev), "--out", str(tmp_path / "m"),
                             "--backend", "facenet", "--finetune"], capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "FACEGATE_FACENET_WEIGHTS": ""})
    assert result.returncode == 2
    assert "weights" in " ".join(result.stderr.replace("│", " ").split())


def test_finetune_is_only_for_facenet(lfw_dev: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "facegate_cli", "train", "--data", str(lfw_dev), "--out", str(tmp_path / "m"),
                             "--finetune"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
