"""The dlib-free serving path and its converters really are free of dlib, torch and OpenCV."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

FORBIDDEN = ("dlib", "torch", "cv2", "face_recognition_models")


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("module", ["recognizer.embed.dlib_resnet", "recognizer.embed.shape_predictor", "recognizer.embed.face_chips"])
def test_serving_modules_load_no_dlib_torch_or_opencv(module: str) -> None:
    loaded = _loaded_after_import(module)
    assert not loaded & set(FORBIDDEN + ("onnx",)), loaded & set(FORBIDDEN + ("onnx",))


@pytest.mark.parametrize("module", ["recognizer.export.dlib_resnet_to_onnx", "recognizer.export.dlib_shape_predictor_to_npz"])
def test_converters_load_no_dlib_or_torch(module: str) -> None:
    loaded = _loaded_after_import(module)
    assert not loaded & {"dlib", "torch", "cv2"}
