"""Where the exported ONNX networks live: baked into the image at build time, or a folder named by config.

Serving never exports anything (no torch in the image); on a developer's machine the training tools export
them once into the per-user cache (recognizer.training.model_cache).
"""
from __future__ import annotations

import os
from pathlib import Path

from recognizer.embedding import ModelUnavailable

IMAGE_MODEL_DIR = Path("/opt/facegate/models")  # baked into the images at build time
MTCNN_FILES = ("pnet.onnx", "rnet.onnx", "onet.onnx")
DLIB_FILES = ("dlib_resnet.onnx", "shape_predictor_5.npz")
SERVED_FILES = MTCNN_FILES + DLIB_FILES


def cache_model_dir() -> Path:
    """The per-user cache the training tools export into (HOME may be unset in a Lambda: /tmp then)."""
    return Path(os.environ.get("HOME") or "/tmp") / ".cache" / "facegate" / "onnx"


def _complete(directory: Path) -> bool:
    return all((directory / name).exists() for name in SERVED_FILES)


def onnx_dir() -> Path:
    """FACEGATE_ONNX_DIR, else the image's folder, else the per-user cache; ModelUnavailable if none has them."""
    configured = os.environ.get("FACEGATE_ONNX_DIR")
    if configured:
        directory = Path(configured)
        if not _complete(directory):
            missing = [name for name in SERVED_FILES if not (directory / name).exists()]
            raise ModelUnavailable(f"FACEGATE_ONNX_DIR={directory} lacks {', '.join(missing)}")
        return directory
    for directory in (IMAGE_MODEL_DIR, cache_model_dir()):
        if _complete(directory):
            return directory
    raise ModelUnavailable(f"no exported networks in {IMAGE_MODEL_DIR} or {cache_model_dir()}: copy them from the "
                           f"recognizer image (id=$(docker create facegate/recognizer:latest) && docker cp "
                           f"$id:{IMAGE_MODEL_DIR} {cache_model_dir()} && docker rm $id), or export them with "
                           "`python -m recognizer.export --out DIR` (train extra) and set FACEGATE_ONNX_DIR=DIR")


def facenet_model_path() -> Path:
    """Where facenet.onnx is expected (beside the MTCNN networks); it exists only given real weights."""
    configured = os.environ.get("FACEGATE_ONNX_DIR")
    for directory in ([Path(configured)] if configured else []) + [IMAGE_MODEL_DIR, cache_model_dir()]:
        if (directory / "facenet.onnx").exists():
            return directory / "facenet.onnx"
    return (Path(configured) if configured else IMAGE_MODEL_DIR) / "facenet.onnx"
