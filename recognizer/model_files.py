"""Where the exported ONNX networks live: baked into the image at build time, or a folder named by config.

Serving never exports anything (no torch in the image); on a developer's machine the training tools export
them once into the per-user cache (recognizer.face_library.model_cache).
"""
from __future__ import annotations

from pathlib import Path

from facegate_contract.settings import ServingSettings, serving_settings


class ModelUnavailable(RuntimeError):
    """No usable weights for the chosen detector or embedder: the recognizer must not start."""

    friendly = True  # the CLI prints it as one line (exit 2): the message says what to install or copy
    exit_code = 2


IMAGE_MODEL_DIR = Path("/opt/facegate/models")  # baked into the images at build time
MTCNN_FILES = ("pnet.onnx", "rnet.onnx", "onet.onnx")
DLIB_FILES = ("dlib_resnet.onnx", "shape_predictor_5.npz")
SERVED_FILES = MTCNN_FILES + DLIB_FILES


def cache_model_dir(settings: ServingSettings | None = None) -> Path:
    """The per-user cache the training tools export into (HOME may be unset in a Lambda: /tmp then)."""
    return (settings or serving_settings()).cache_dir


def _complete(directory: Path) -> bool:
    return all((directory / name).exists() for name in SERVED_FILES)


def onnx_dir(settings: ServingSettings | None = None) -> Path:
    """FACEGATE_ONNX_DIR, else the image's folder, else the per-user cache; ModelUnavailable if none has them."""
    settings = settings or serving_settings()
    if settings.onnx_dir is not None:
        directory = settings.onnx_dir
        if not _complete(directory):
            missing = [name for name in SERVED_FILES if not (directory / name).exists()]
            raise ModelUnavailable(f"FACEGATE_ONNX_DIR={directory} lacks {', '.join(missing)}")
        return directory
    cache = settings.cache_dir
    for directory in (IMAGE_MODEL_DIR, cache):
        if _complete(directory):
            return directory
    raise ModelUnavailable(f"no exported networks in {IMAGE_MODEL_DIR} or {cache}: copy them from the "
                           f"recognizer image (id=$(docker create facegate/recognizer:latest) && docker cp "
                           f"$id:{IMAGE_MODEL_DIR} {cache} && docker rm $id), or export them with "
                           "`python -m recognizer.export --out DIR` (train extra) and set FACEGATE_ONNX_DIR=DIR")


def facenet_model_path(settings: ServingSettings | None = None) -> Path:
    """Where facenet.onnx is expected (beside the MTCNN networks); it exists only given real weights."""
    settings = settings or serving_settings()
    configured = settings.onnx_dir
    for directory in ([configured] if configured else []) + [IMAGE_MODEL_DIR, settings.cache_dir]:
        if (directory / "facenet.onnx").exists():
            return directory / "facenet.onnx"
    return (configured or IMAGE_MODEL_DIR) / "facenet.onnx"
