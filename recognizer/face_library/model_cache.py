"""On a developer's machine, export the served networks once into the per-user cache (needs the train extra:
torch and facenet-pytorch); the Lambda image has them baked in at build time instead."""
from __future__ import annotations

import logging
from pathlib import Path

from facegate_contract.settings import serving_settings
from recognizer.model_files import ModelUnavailable, cache_model_dir, onnx_dir

log = logging.getLogger(__name__)


def ensure_onnx_models() -> Path:
    """The folder with the exported networks, exporting them into the cache first when none exists."""
    try:
        return onnx_dir()
    except ModelUnavailable as exc:
        if serving_settings().onnx_dir is not None:
            raise  # a folder was named: say what it lacks rather than export elsewhere
        missing = exc  # says how to copy them from the recognizer image instead
    target = cache_model_dir()
    log.info("exporting the networks", extra={"dir": str(target)})
    try:
        from recognizer.export.networks import export_all
    except ImportError as exc:  # pragma: no cover - depends on installed extras
        raise ModelUnavailable(f"{missing}; exporting here needs the train extra ({exc})") from exc
    try:
        export_all(target)
    except ImportError as exc:
        raise ModelUnavailable(f"cannot export the networks: {exc} (the train extra has what it needs)") from exc
    return onnx_dir()
