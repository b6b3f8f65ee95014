"""The facenet backend: refuses to start without real weights; its ONNX export matches torch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recognizer.embed.facenet import FacenetOnnxEmbedder
from recognizer.embed.registry import make_embedder
from recognizer.model_files import ModelUnavailable
from recognizer.image_decode import load_rgb
from recognizer.face_library.model_cache import ensure_onnx_models
from recognizer.detect.mtcnn import MtcnnOnnxDetector
from tests.conftest import FIXTURE_IMAGES


def test_facenet_backend_refuses_to_start_without_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pnet.onnx", "rnet.onnx", "onet.onnx"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv("FACEGATE_ONNX_DIR", str(tmp_path))
    with pytest.raises(ModelUnavailable, match="weights"):
        make_embedder("facenet")


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ModelUnavailable, match="unknown embedding backend"):
        make_embedder("eigenfaces")


def test_exported_facenet_matches_torch_on_real_photos(tmp_path: Path, lfw_dev: Path) -> None:
    """Export from a weights file and compare embeddings with torch's (cosine >= 0.999).

    No vggface2 weights can be downloaded here, so the weights file holds a seeded random
    initialisation: this checks the export and the serving preprocessing, not accuracy.
    """
    torch = pytest.importorskip("torch")
    from recognizer.torch_reference.torch_compat import install

    install()
    facenet_pytorch = pytest.importorskip("facenet_pytorch")
    from recognizer.export.torch_models import export_facenet, load_facenet

    torch.manual_seed(0)
    weights = tmp_path / "weights.pt"
    torch.save(facenet_pytorch.InceptionResnetV1(pretrained=None).state_dict(), weights)
    embedder = FacenetOnnxEmbedder(export_facenet(weights, tmp_path))
    reference = load_facenet(weights)
    detector = MtcnnOnnxDetector(ensure_onnx_models())

    photos = [FIXTURE_IMAGES / "probe_eileen_collins.jpg"] + sorted((lfw_dev / "unknown").glob("*.jpg"))[:5]
    for path in photos:
        rgb = load_rgb(path)
        faces = detector.detect(rgb)[:1]
        ours = embedder.embed(rgb, faces)
        x1, y1, x2, y2 = faces[0].box
        crop = torch.nn.functional.interpolate(
            torch.from_numpy(rgb[y1:y2, x1:x2].astype(np.float32)).permute(2, 0, 1)[None], size=(160, 160), mode="area")
        with torch.no_grad():
            theirs = reference((crop - 127.5) / 128.0).numpy()
        cosine = float((ours * theirs).sum() / (np.linalg.norm(ours) * np.linalg.norm(theirs)))
        assert ours.shape == (1, 512)
        assert cosine >= 0.999, (path, cosine)
