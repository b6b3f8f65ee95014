"""Train and evaluate through the CLI on real LFW photos: known people named, strangers rejected."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _facegate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "facegate_cli", *args], capture_output=True, text=True, timeout=900)


def test_train_and_evaluate_on_lfw_dev(lfw_dev: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    trained = _facegate("train", "--data", str(lfw_dev), "--out", str(model), "--backend", "dlib")
    assert trained.returncode == 0, trained.stderr
    assert {p.name for p in model.iterdir()} >= {"classifier.npz", "labels.json", "metrics.json"}
    assert len(json.loads((model / "labels.json").read_text())) == 12

    evaluated = _facegate("evaluate", "--model", str(model), "--data", str(lfw_dev), "--unknown", str(lfw_dev / "unknown"))
    assert evaluated.returncode == 0, evaluated.stderr
    lines = [line for line in evaluated.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, "evaluate prints exactly one JSON line"
    metrics = json.loads(lines[0])
    assert metrics["n"] == 72 and metrics["n_unknown"] == 60
    assert metrics["accuracy"] >= 0.95
    assert metrics["unknown_rejection"] >= 0.90
    assert abs(metrics["false_accept"] - (1 - metrics["unknown_rejection"])) < 1e-6
