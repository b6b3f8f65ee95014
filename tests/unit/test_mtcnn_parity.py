"""The torch-free MTCNN (ONNX Runtime + numpy) against facenet-pytorch's MTCNN on real photos."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recognizer.area_resize import area_resize
from recognizer.image_decode import load_rgb
from recognizer.face_library.model_cache import ensure_onnx_models
from recognizer.detect.mtcnn import MtcnnOnnxDetector
from tests.conftest import FIXTURE_IMAGES

torch = pytest.importorskip("torch")
from recognizer.torch_reference.torch_compat import install  # noqa: E402

install()
pytest.importorskip("facenet_pytorch", reason="facenet-pytorch (scripts/dev-env installs it)")


@pytest.fixture(scope="module")
def torch_mtcnn():
    from facenet_pytorch import MTCNN

    return MTCNN(keep_all=True, device="cpu")


@pytest.fixture(scope="module")
def onnx_mtcnn() -> MtcnnOnnxDetector:
    return MtcnnOnnxDetector(ensure_onnx_models())


def _photos(lfw_root: Path | None) -> list[Path]:
    photos = sorted(FIXTURE_IMAGES.rglob("*.jpg"))
    if lfw_root is not None:
        people = sorted((lfw_root / "val").iterdir())
        photos += [sorted(p.glob("*.jpg"))[0] for p in people] + sorted((lfw_root / "unknown").glob("*.jpg"))[:12]
    return photos


def test_area_resize_equals_torch_area_interpolation() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (97, 131, 3)).astype(np.uint8)
    for height, width in [(69, 93), (24, 24), (48, 48), (150, 200), (13, 9)]:
        ours = area_resize(image, height, width)
        tensor = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None]
        reference = torch.nn.functional.interpolate(tensor, size=(height, width), mode="area")[0].permute(1, 2, 0).numpy()
        np.testing.assert_allclose(ours, reference, atol=1e-3)


def test_same_boxes_scores_and_landmarks_as_facenet_pytorch(torch_mtcnn, onnx_mtcnn: MtcnnOnnxDetector, lfw_dev: Path) -> None:
    compared = 0
    for path in _photos(lfw_dev):
        rgb = load_rgb(path)
        boxes, probs, points = torch_mtcnn.detect(rgb, landmarks=True)
        ours, our_points = onnx_mtcnn.detect_raw(rgb)
        if boxes is None:
            assert len(ours) == 0, path
            continue
        boxes, probs, points = (np.asarray(a, dtype=np.float64) for a in (boxes, probs, points))
        assert len(ours) == len(boxes), path
        theirs_order, ours_order = np.argsort(-probs), np.argsort(-ours[:, 4])
        np.testing.assert_allclose(ours[ours_order, :4], boxes[theirs_order], atol=1.0, err_msg=str(path))
        np.testing.assert_allclose(ours[ours_order, 4], probs[theirs_order], atol=1e-4)
        np.testing.assert_allclose(our_points[ours_order], points[theirs_order], atol=1.0)
        compared += len(boxes)
    assert compared >= 30


def test_no_face_frame_has_no_detections(onnx_mtcnn: MtcnnOnnxDetector) -> None:
    assert onnx_mtcnn.detect(load_rgb(FIXTURE_IMAGES / "no_face.jpg")) == []


def test_detections_are_clipped_and_carry_landmarks(onnx_mtcnn: MtcnnOnnxDetector) -> None:
    rgb = load_rgb(FIXTURE_IMAGES / "probe_eileen_collins.jpg")
    [face] = onnx_mtcnn.detect(rgb)
    x1, y1, x2, y2 = face.box
    assert 0 <= x1 < x2 <= rgb.shape[1] and 0 <= y1 < y2 <= rgb.shape[0]
    assert face.score > 0.9 and face.landmarks is not None and len(face.landmarks) == 5
    # Eyes above the mouth corners, both inside the box.
    (lex, ley), (rex, rey), _, (lmx, lmy), (rmx, rmy) = face.landmarks
    assert max(ley, rey) < min(lmy, rmy)
    assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in face.landmarks)


def test_same_identities_as_the_torch_pipeline(onnx_mtcnn: MtcnnOnnxDetector, lfw_dev: Path) -> None:
    """Gallery from ONNX-served detections; val photos and strangers get the same names either way."""
    from recognizer.training import fit as training
    from recognizer.classify.open_set import OpenSetClassifier
    from recognizer.training.dataset import LabelledImage
    from recognizer.embed.registry import make_embedder
    from recognizer.torch_reference.mtcnn_torch import MtcnnTorchDetector
    from recognizer.pipeline import FacePipeline

    embedder = make_embedder("dlib")
    served = FacePipeline(onnx_mtcnn, embedder)
    reference = FacePipeline(MtcnnTorchDetector(), embedder)
    people = sorted(p.name for p in (lfw_dev / "training").iterdir())[:4]
    train = [LabelledImage(p, n) for n in people for p in sorted((lfw_dev / "training" / n).glob("*.jpg"))[:8]]
    probes = [LabelledImage(p, n) for n in people for p in sorted((lfw_dev / "val" / n).glob("*.jpg"))]
    probes += training.unknown_items(lfw_dev / "unknown")[:10]
    gallery = training.embed_images(served, train)
    classifier = OpenSetClassifier(
        "dlib", people, gallery.embeddings, np.array([people.index(label) for label in gallery.labels], dtype=np.int32), 0.55)
    ours = [i.name for i in classifier.classify(training.embed_images(served, probes).embeddings)]
    theirs = [i.name for i in classifier.classify(training.embed_images(reference, probes).embeddings)]
    assert ours == theirs
    assert sum(name == item.label for name, item in zip(ours, probes)) >= 0.9 * len(probes)
