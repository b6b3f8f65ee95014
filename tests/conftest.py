"""Shared test helpers: project paths and the shared face dataset (skipped where absent)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_IMAGES = ROOT / "fixtures" / "images"
LFW_DEV = ROOT.parent / "shared" / "datasets" / "lfw-dev"


@pytest.fixture(scope="session")
def lfw_dev() -> Path:
    """The shared LFW subset; tests that need it skip cleanly where it is absent."""
    if not (LFW_DEV / "training").is_dir():
        pytest.skip(f"shared dataset not found at {LFW_DEV}")
    return LFW_DEV


@pytest.fixture(scope="session", autouse=True)
def onnx_models() -> Path | None:
    """The exported networks (exported once into the per-user cache on a developer's machine)."""
    try:
        from recognizer.face_library.model_cache import ensure_onnx_models
    except ImportError:  # a role venv without the recognizer's dependencies
        return None
    return ensure_onnx_models()


@pytest.fixture(scope="session")
def probe_jpeg() -> bytes:
    """A held-out JPEG of the enrolled demo person (built from scikit-image's astronaut photo)."""
    return (FIXTURE_IMAGES / "probe_eileen_collins.jpg").read_bytes()


@pytest.fixture(scope="session")
def enrol_images() -> list[Path]:
    return sorted((FIXTURE_IMAGES / "Eileen_Collins").glob("*.jpg"))
