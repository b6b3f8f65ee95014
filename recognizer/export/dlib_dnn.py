"""Read a serialized dlib DNN (dlib/dnn/core.h, layers.h, input.h, loss.h) into plain layer records.

dlib nests its network types: `loss<fc<relu<... con<input>>>>`. Serializing the outermost object
writes, in order: the loss layer's version and details, then each wrapper's version from the
output down to the input (add_layer: 1-2, add_tag_layer: 1, add_skip_layer: 1; the add_layer
around the input layer: 2-3), then the input layer, then every add_layer's details and
bookkeeping from the input back up to the output. Tags and skips write nothing but their version.
The stream carries no type names for the wrappers, so the reader is driven by the network's
definition (`Spec` entries, outermost first), and checks every layer's name and template
parameters against it the way dlib's deserialize() does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recognizer.export.dlib_serialization import DlibReader


@dataclass(frozen=True)
class Spec:
    """One wrapper of the network definition: a layer kind with its template parameters.

    kind: con, affine, relu, max_pool, avg_pool, add_prev, tag, skip, fc, fc_no_bias.
    For con: (num_filters, nr, nc, stride_y, stride_x); pools: (nr, nc, stride_y, stride_x),
    nr = nc = 0 meaning the whole input (avg_pool_everything); fc: (num_outputs,);
    tag / skip / add_prev: (tag id,).
    """

    kind: str
    args: tuple[int, ...] = ()


@dataclass
class Layer:
    """One layer as read from the file, in forward order (input first)."""

    kind: str
    args: tuple[int, ...] = ()
    # Learned arrays: con: weights (O, I, kh, kw), bias (O,) or absent; affine: gamma, beta (k,);
    # fc: weights (inputs, outputs), bias (outputs,) or absent; input: mean (3,), scale ().
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    padding: tuple[int, int] = (0, 0)
    fused_relu: bool = False  # con_6 can apply a relu itself
    disabled: bool = False  # relu_2 / affine_2 can be switched off


def default_padding(size: int, stride: int) -> int:
    """dlib's default padding for con_/max_pool_/avg_pool_: half the window at stride 1, else 0."""
    return size // 2 if stride == 1 else 0


def read_network(reader: DlibReader, specs: list[Spec], input_size: int,
                 loss_names: tuple[str, ...] = ("loss_metric_", "loss_metric_2")) -> list[Layer]:
    """The layers of a `loss<specs...<input_rgb_image_sized<input_size>>>` network, input first.

    `specs` lists the wrappers outermost first, exactly as the C++ type nests them.
    """
    reader.version("add_loss_layer", (1,))
    if reader.expect_string("loss layer", loss_names) == "loss_metric_2":
        reader.floating("loss margin"), reader.floating("loss distance threshold")
    versions = []
    for index, spec in enumerate(specs):
        innermost = index == len(specs) - 1
        if spec.kind in ("tag", "skip"):
            if innermost:
                raise reader.error("a tag or skip layer directly over the input is not supported")
            versions.append(reader.version(f"add_{spec.kind}_layer {spec.args}", (1,)))
        else:
            allowed = (2, 3) if innermost else (1, 2)
            versions.append(reader.version(f"add_layer ({spec.kind})", allowed))
    layers = [_read_input(reader, input_size)]
    for index in reversed(range(len(specs))):
        spec = specs[index]
        if spec.kind in ("tag", "skip"):
            layers.append(Layer(spec.kind, spec.args))
            continue
        layers.append(_READERS[spec.kind](reader, spec))
        _skip_layer_state(reader, spec.kind, versions[index], input_layer=index == len(specs) - 1)
    reader.expect_end()
    return layers


def _skip_layer_state(reader: DlibReader, kind: str, version: int, input_layer: bool) -> None:
    """add_layer's training bookkeeping after the details: flags and (normally empty) tensors."""
    for flag in ("this_layer_setup_called", "gradient_input_is_stale", "get_output_and_gradient_input_disabled"):
        reader.boolean(f"{kind} {flag}")
    reader.tensor(f"{kind} x_grad")
    reader.tensor(f"{kind} cached_output")
    if input_layer:
        reader.tensor(f"{kind} grad_final")
        if version >= 3:
            reader.unsigned(f"{kind} sample_expansion_factor")
    elif version == 2:
        reader.tensor(f"{kind} params_grad")


def _read_input(reader: DlibReader, size: int) -> Layer:
    reader.expect_string("input layer", ("input_rgb_image_sized",))
    mean = np.array([reader.floating("input average") for _ in range(3)], dtype=np.float32)
    rows, cols = reader.unsigned("input rows"), reader.unsigned("input cols")
    if (rows, cols) != (size, size):
        raise reader.error(f"input is {rows}x{cols}, expected {size}x{size}")
    # input_rgb_image_sized::to_tensor: (pixel - average) / 256, planar RGB.
    return Layer("input", (rows, cols), {"mean": mean, "scale": np.float32(1 / 256)})


def _check(reader: DlibReader, kind: str, found: tuple[int, ...], expected: tuple[int, ...]) -> None:
    if found != expected:
        raise reader.error(f"{kind}: parameters {found} in the file, the network definition says {expected}")


def _params_slice(reader: DlibReader, params: np.ndarray, start: int, shape: tuple[int, ...], what: str) -> np.ndarray:
    count = int(np.prod(shape))
    flat = params.reshape(-1)
    if start + count > flat.size:
        raise reader.error(f"{what}: needs params[{start}:{start + count}] of {flat.size}")
    return flat[start:start + count].reshape(shape).copy()


def _read_con(reader: DlibReader, spec: Spec) -> Layer:
    version = reader.expect_string("con_", ("con_4", "con_5", "con_6"))
    params = reader.tensor("con_ params")
    num_filters = reader.integer("con_ num_filters")
    nr, nc = reader.integer("con_ nr"), reader.integer("con_ nc")
    stride = (reader.integer("con_ stride_y", 4), reader.integer("con_ stride_x", 4))
    padding = (reader.integer("con_ padding_y", 4), reader.integer("con_ padding_x", 4))
    filters = reader.alias_tensor("con_ filters")
    reader.alias_tensor("con_ biases")  # an alias into params: its values are sliced from params below
    for name in ("learning_rate", "weight_decay", "bias_learning_rate", "bias_weight_decay"):
        reader.floating(f"con_ {name}_multiplier")
    use_bias = reader.boolean("con_ use_bias") if version in ("con_5", "con_6") else True
    use_relu = reader.boolean("con_ use_relu") if version == "con_6" else False
    filters_, nr_, nc_, sy, sx = spec.args
    _check(reader, "con_", (num_filters, nr, nc) + stride + padding,
           (filters_, nr_, nc_, sy, sx, default_padding(nr_, sy), default_padding(nc_, sx)))
    if filters[0] != num_filters or filters[2:] != (nr, nc):
        raise reader.error(f"con_ filters shape {filters} does not match {num_filters} filters of {nr}x{nc}")
    arrays = {"weights": _params_slice(reader, params, 0, filters, "con_ filters")}
    if use_bias:
        arrays["bias"] = _params_slice(reader, params, int(np.prod(filters)), (num_filters,), "con_ biases")
    return Layer("con", spec.args, arrays, padding=padding, fused_relu=use_relu)


def _read_affine(reader: DlibReader, spec: Spec) -> Layer:
    version = reader.expect_string("affine_", ("bn_con2", "affine_", "affine_2"))
    if version == "bn_con2":
        return _affine_from_batch_norm(reader, spec)
    params = reader.tensor("affine_ params")
    gamma, beta = reader.alias_tensor("affine_ gamma"), reader.alias_tensor("affine_ beta")
    mode = reader.integer("affine_ mode", 4)
    disabled = reader.boolean("affine_ disabled") if version == "affine_2" else False
    if mode != 0:
        raise reader.error("affine_ in fc mode (per-element gamma) is not supported; expected conv mode")
    k = int(np.prod(gamma))
    arrays = {"gamma": _params_slice(reader, params, 0, (k,), "affine_ gamma"),
              "beta": _params_slice(reader, params, k, (int(np.prod(beta)),), "affine_ beta")}
    return Layer("affine", spec.args, arrays, disabled=disabled)


def _affine_from_batch_norm(reader: DlibReader, spec: Spec) -> Layer:
    """dlib turns a saved bn_con into an affine_ at load time: gamma / sqrt(var + eps), beta - mean * that."""
    params = reader.tensor("bn_ params")
    gamma_shape, beta_shape = reader.alias_tensor("bn_ gamma"), reader.alias_tensor("bn_ beta")
    for name in ("means", "invstds"):
        reader.tensor(f"bn_ {name}")
    running_means = reader.tensor("bn_ running_means").reshape(-1)
    running_variances = reader.tensor("bn_ running_variances").reshape(-1)
    reader.unsigned("bn_ num_updates"), reader.unsigned("bn_ running_stats_window_size")
    for name in ("learning_rate", "weight_decay", "bias_learning_rate", "bias_weight_decay"):
        reader.floating(f"bn_ {name}_multiplier")
    eps = reader.floating("bn_ eps")
    k = int(np.prod(gamma_shape))
    gamma = _params_slice(reader, params, 0, (k,), "bn_ gamma")
    beta = _params_slice(reader, params, k, (int(np.prod(beta_shape)),), "bn_ beta")
    if not (running_means.size == running_variances.size == beta.size == k):
        raise reader.error(f"bn_ statistics sizes differ: {k} channels, {running_means.size} means")
    # Same float32 arithmetic as affine_(const bn_&): eps is added as a float.
    scale = gamma / np.sqrt(running_variances + np.float32(eps))
    return Layer("affine", spec.args, {"gamma": scale.astype(np.float32),
                                       "beta": (beta - scale * running_means).astype(np.float32)})


def _read_relu(reader: DlibReader, spec: Spec) -> Layer:
    version = reader.expect_string("relu_", ("relu_", "relu_2"))
    disabled = reader.boolean("relu_ disabled") if version == "relu_2" else False
    return Layer("relu", spec.args, disabled=disabled)


def _read_pool(reader: DlibReader, spec: Spec) -> Layer:
    name = f"{spec.kind}_"
    reader.expect_string(name, (f"{spec.kind}_2",))
    nr, nc = reader.integer(f"{name} nr"), reader.integer(f"{name} nc")
    stride = (reader.integer(f"{name} stride_y", 4), reader.integer(f"{name} stride_x", 4))
    padding = (reader.integer(f"{name} padding_y", 4), reader.integer(f"{name} padding_x", 4))
    nr_, nc_, sy, sx = spec.args
    _check(reader, name, (nr, nc) + stride + padding,
           (nr_, nc_, sy, sx, default_padding(nr_, sy), default_padding(nc_, sx)))
    return Layer(spec.kind, spec.args, padding=padding)


def _read_add_prev(reader: DlibReader, spec: Spec) -> Layer:
    reader.expect_string("add_prev_", ("add_prev_",))
    return Layer("add_prev", spec.args)


def _read_fc(reader: DlibReader, spec: Spec) -> Layer:
    version = reader.expect_string("fc_", ("fc_2", "fc_3"))
    outputs, inputs = reader.unsigned("fc_ num_outputs"), reader.unsigned("fc_ num_inputs")
    params = reader.tensor("fc_ params")
    weights = reader.alias_tensor("fc_ weights")
    reader.alias_tensor("fc_ biases")
    bias_mode = reader.integer("fc_ bias_mode", 4)
    for name in ("learning_rate", "weight_decay", "bias_learning_rate", "bias_weight_decay"):
        reader.floating(f"fc_ {name}_multiplier")
    use_bias = reader.boolean("fc_ use_bias") if version == "fc_3" else True
    expected_mode = 1 if spec.kind == "fc_no_bias" else 0  # FC_NO_BIAS = 1, FC_HAS_BIAS = 0
    _check(reader, "fc_", (outputs, bias_mode), (spec.args[0], expected_mode))
    if weights != (inputs, outputs, 1, 1):
        raise reader.error(f"fc_ weights shape {weights}, expected ({inputs}, {outputs}, 1, 1)")
    # The weights are an (inputs x outputs) matrix: output = input @ weights.
    arrays = {"weights": _params_slice(reader, params, 0, (inputs, outputs), "fc_ weights")}
    if expected_mode == 0 and use_bias:
        arrays["bias"] = _params_slice(reader, params, inputs * outputs, (outputs,), "fc_ biases")
    return Layer("fc", (outputs,), arrays)


_READERS = {"con": _read_con, "affine": _read_affine, "relu": _read_relu, "max_pool": _read_pool,
            "avg_pool": _read_pool, "add_prev": _read_add_prev, "fc": _read_fc, "fc_no_bias": _read_fc}
