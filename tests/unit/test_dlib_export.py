"""The dlib model converters: structure, determinism and clear errors (no dlib needed)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recognizer.export.dlib_dnn import Spec, read_network
from recognizer.export.dlib_serialization import DlibFormatError, DlibReader

onnx = pytest.importorskip("onnx")
frm = pytest.importorskip("face_recognition_models")

from recognizer.export import dlib_resnet_to_onnx as converter  # noqa: E402


@pytest.fixture(scope="module")
def resnet_bytes() -> bytes:
    return Path(frm.face_recognition_model_location()).read_bytes()


def test_network_layout_as_dlib_defines_it(resnet_bytes: bytes) -> None:
    layers = read_network(DlibReader(resnet_bytes), converter.FACE_RESNET, 150)
    kinds = [layer.kind for layer in layers]
    assert kinds[0] == "input" and kinds[-2:] == ["avg_pool", "fc"]
    assert kinds.count("con") == 29 and kinds.count("add_prev") == 14 and kinds.count("affine") == 29
    np.testing.assert_allclose(layers[0].arrays["mean"], [122.782, 117.001, 104.298], rtol=1e-6)
    first = layers[1]
    assert first.arrays["weights"].shape == (32, 3, 7, 7) and first.padding == (0, 0)  # stride 2: no padding
    three_by_three = [layer for layer in layers if layer.kind == "con" and layer.args[1] == 3]
    assert {layer.padding for layer in three_by_three if layer.args[3] == 1} == {(1, 1)}
    assert {layer.padding for layer in three_by_three if layer.args[3] == 2} == {(0, 0)}
    assert layers[-1].arrays["weights"].shape == (256, 128) and "bias" not in layers[-1].arrays


def test_graph_has_dynamic_batch_and_dlib_sized_io(dlib_onnx_models: Path) -> None:
    model = onnx.load(str(dlib_onnx_models / converter.FILE_NAME))
    onnx.checker.check_model(model)
    (inp,), (out,) = model.graph.input, model.graph.output
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    assert dims(inp) == ["n", 3, 150, 150] and dims(out) == ["n", 128]
    # dlib's add of tensors of different sizes: zero-padding before the residual adds that need it.
    assert sum(node.op_type == "Pad" for node in model.graph.node) > 0
    assert not any(node.op_type in ("BatchNormalization",) for node in model.graph.node)


def test_same_model_file_gives_the_same_bytes(dlib_onnx_models: Path, tmp_path: Path) -> None:
    again = converter.export(tmp_path)
    assert again.read_bytes() == (dlib_onnx_models / converter.FILE_NAME).read_bytes()


def test_truncated_model_file_is_a_clear_error(resnet_bytes: bytes) -> None:
    with pytest.raises(DlibFormatError, match="truncated"):
        read_network(DlibReader(resnet_bytes[: len(resnet_bytes) // 2], "half.dat"), converter.FACE_RESNET, 150)


def test_a_network_definition_that_does_not_match_the_file_is_refused(resnet_bytes: bytes) -> None:
    wrong = list(converter.FACE_RESNET)
    wrong[-1] = Spec("con", (16, 7, 7, 2, 2))
    with pytest.raises(DlibFormatError, match=r"con_: parameters \(32, 7, 7, 2, 2, 0, 0\) in the file"):
        read_network(DlibReader(resnet_bytes), wrong, 150)
    # One wrapper short: the skip layer's place in the stream holds an add_layer's version.
    with pytest.raises(DlibFormatError, match=r"unexpected add_skip_layer \(1,\) version 2"):
        read_network(DlibReader(resnet_bytes), converter.FACE_RESNET[1:], 150)


def test_shape_predictor_npz_is_deterministic_and_complete(dlib_onnx_models: Path, tmp_path: Path) -> None:
    from recognizer.export import dlib_shape_predictor_to_npz as sp

    again = sp.export(tmp_path)
    assert again.read_bytes() == (dlib_onnx_models / sp.FILE_NAME).read_bytes()
    with np.load(again) as arrays:
        assert arrays["initial_shape"].shape == (5, 2)
        cascades, trees, splits, _ = arrays["split_index"].shape
        assert arrays["leaf_values"].shape == (cascades, trees, splits + 1, 5, 2)
        assert arrays["split_index"].max() < arrays["anchor_index"].shape[1]
