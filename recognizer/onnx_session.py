"""One way to open an ONNX Runtime session for serving: CPU, chosen intra-op threads, one inter-op thread."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def open_session(model: Path, intra_op_threads: int) -> Any:
    """An InferenceSession on the CPU; `intra_op_threads` 0 lets ONNX Runtime pick."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1  # the graphs run sequentially: a second pool only costs
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
