"""Where the exported ONNX networks live, exporting them once on hosts that have torch."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from recognizer.embedding import ModelUnavailable

log = logging.getLogger(__name__)

IMAGE_MODEL_DIR = Path("/opt/facegate/models")  # baked into the images at build time
CACHE_MODEL_DIR = Path.home() / ".cache" / "facegate" / "onnx"
MTCNN_FILES = ("pnet.onnx", "rnet.onnx", "onet.onnx")


def _complete(directory: Path) -> bool:
    return all((directory / name).exists() for name in MTCNN_FILES)


def onnx_dir() -> Path:
    """FACEGATE_ONNX_DIR, else the image's folder, else a per-user cache (exported on first use)."""
    configured = os.environ.get("FACEGATE_ONNX_DIR")
    if configured:
        directory = Path(configured)
        if not _complete(directory):
            raise ModelUnavailable(f"FACEGATE_ONNX_DIR={directory} lacks {', '.join(MTCNN_FILES)}")
        return directory
    if _complete(IMAGE_MODEL_DIR):
        return IMAGE_MODEL_DIR
    if not _complete(CACHE_MODEL_DIR):
        try:
            from recognizer.onnx_export import export_mtcnn
        except ImportError as exc:  # pragma: no cover - depends on installed extras
            raise ModelUnavailable("no exported MTCNN networks: set FACEGATE_ONNX_DIR or install torch and "
                                   "facenet-pytorch to export them (scripts/dev-env does)") from exc
        log.info("exporting MTCNN to ONNX", extra={"dir": str(CACHE_MODEL_DIR)})
        try:
            export_mtcnn(CACHE_MODEL_DIR)
        except ImportError as exc:
            raise ModelUnavailable(f"cannot export MTCNN networks: {exc}") from exc
    return CACHE_MODEL_DIR


def facenet_model_path() -> Path:
    """Where facenet.onnx is expected (beside the MTCNN networks); it exists only given real weights."""
    configured = os.environ.get("FACEGATE_ONNX_DIR")
    for directory in ([Path(configured)] if configured else []) + [IMAGE_MODEL_DIR, CACHE_MODEL_DIR]:
        if (directory / "facenet.onnx").exists():
            return directory / "facenet.onnx"
    return (Path(configured) if configured else IMAGE_MODEL_DIR) / "facenet.onnx"
