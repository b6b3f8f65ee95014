"""On a developer's machine, export the served networks once into the per-user cache (needs the train extra:
torch and facenet-pytorch); the Lambda image has them baked in at build time instead."""
from __future__ import annotations

import logging
from pathlib import Path

from recognizer.embedding import ModelUnavailable
from recognizer.model_files import cache_model_dir, onnx_dir

log = logging.getLogger(__name__)


def ensure_onnx_models() -> Path:
    """The folder with the exported networks, exporting them into the cache first when none exists."""
    try:
        return onnx_dir()
    except ModelUnavailable:
        pass
    try:
        from recognizer.export.torch_models import export_mtcnn
    except ImportError as exc:  # pragma: no cover - depends on installed extras
        raise ModelUnavailable("no exported networks and no torch to export them: install the train extra, or set "
                               "FACEGATE_ONNX_DIR to a folder of exported networks") from exc
    target = cache_model_dir()
    log.info("exporting the networks to ONNX", extra={"dir": str(target)})
    try:
        export_mtcnn(target)
    except ImportError as exc:
        raise ModelUnavailable(f"cannot export the networks: {exc}") from exc
    return onnx_dir()
