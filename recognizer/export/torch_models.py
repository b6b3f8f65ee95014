"""Export the torch models to ONNX for serving (build time / training time; needs torch).

    python -m recognizer.export --out DIR [--facenet-weights FILE]      (with the other networks)

MTCNN's P/R/O-Nets come with their weights inside the facenet-pytorch wheel. InceptionResnetV1
(the `facenet` backend) is exported only when a weights file is given: without real weights
there is no facenet model, never a randomly initialised one.
"""
from __future__ import annotations

from pathlib import Path

OPSET = 17


def _export(model, example, path: Path, outputs: list[str], dynamic: dict) -> None:
    import torch

    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, example, str(path), dynamo=False, opset_version=OPSET,
                          input_names=["input"], output_names=outputs, dynamic_axes=dynamic)


def export_mtcnn(out: Path) -> list[Path]:
    """Write pnet.onnx (any H, W), rnet.onnx and onet.onnx (any batch) into `out`."""
    import torch

    from recognizer.torch_reference.torch_compat import install

    install()
    from facenet_pytorch import ONet, PNet, RNet

    out.mkdir(parents=True, exist_ok=True)
    batch = {"input": {0: "n"}}
    _export(PNet(), torch.zeros(1, 3, 64, 80), out / "pnet.onnx", ["reg", "prob"],
            {"input": {0: "n", 2: "h", 3: "w"}, "reg": {0: "n", 2: "oh", 3: "ow"}, "prob": {0: "n", 2: "oh", 3: "ow"}})
    _export(RNet(), torch.zeros(2, 3, 24, 24), out / "rnet.onnx", ["reg", "prob"],
            {**batch, "reg": {0: "n"}, "prob": {0: "n"}})
    _export(ONet(), torch.zeros(2, 3, 48, 48), out / "onet.onnx", ["reg", "points", "prob"],
            {**batch, "reg": {0: "n"}, "points": {0: "n"}, "prob": {0: "n"}})
    return [out / f"{n}.onnx" for n in ("pnet", "rnet", "onet")]


def load_facenet(weights: Path):
    """InceptionResnetV1 with a vggface2 state dict from `weights` (no download)."""
    import torch

    from recognizer.torch_reference.torch_compat import install

    install()
    from facenet_pytorch import InceptionResnetV1

    model = InceptionResnetV1(pretrained=None, classify=False)
    state = torch.load(str(weights), map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("logits.")}
    model.load_state_dict(state, strict=True)
    return model.eval()


def export_facenet(weights: Path, out: Path) -> Path:
    """Write facenet.onnx (any batch of 160x160 crops) from a weights file."""
    import torch

    path = out / "facenet.onnx"
    _export(load_facenet(weights), torch.zeros(2, 3, 160, 160), path, ["embedding"],
            {"input": {0: "n"}, "embedding": {0: "n"}})
    return path

