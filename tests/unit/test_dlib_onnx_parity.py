"""dlib's face descriptor served without dlib (numpy landmarks, numpy chips, ResNet on ONNX Runtime)
against dlib itself on real photos.

Measured on fixtures + lfw-dev (518 faces): landmarks identical, chips identical (also through
the image pyramid), descriptors within L2 1.3e-6 / cosine 1 - 1e-7 of dlib's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recognizer.embed.face_chips import face_chips
from recognizer.faces import Detection
from recognizer.image_decode import load_rgb
from tests.conftest import FIXTURE_IMAGES

dlib = pytest.importorskip("dlib", reason="the reference is dlib itself")
frm = pytest.importorskip("face_recognition_models")

from recognizer.embed.dlib_resnet import DlibResNetOnnxEmbedder  # noqa: E402

MIN_COSINE, MAX_L2 = 0.9999, 1e-3


@pytest.fixture(scope="module")
def onnx_embedder(dlib_onnx_models: Path) -> DlibResNetOnnxEmbedder:
    return DlibResNetOnnxEmbedder(dlib_onnx_models, threads=1)


@pytest.fixture(scope="module")
def dlib_predictor():
    return dlib.shape_predictor(frm.pose_predictor_five_point_model_location())


@pytest.fixture(scope="module")
def dlib_net():
    return dlib.face_recognition_model_v1(frm.face_recognition_model_location())


@pytest.fixture(scope="module")
def detector():
    from recognizer.model_files import onnx_dir
    from recognizer.detect.mtcnn import MtcnnOnnxDetector

    return MtcnnOnnxDetector(onnx_dir())


def _photos(lfw_root: Path | None) -> list[Path]:
    photos = sorted(FIXTURE_IMAGES.rglob("*.jpg"))
    if lfw_root is not None:
        people = sorted((lfw_root / "val").iterdir())
        photos += [p for person in people for p in sorted(person.glob("*.jpg"))[:2]]
        photos += sorted((lfw_root / "unknown").glob("*.jpg"))[:12]
    return photos


@pytest.fixture(scope="module")
def frames(detector, request) -> list[tuple[Path, np.ndarray, list[Detection]]]:
    """Real photos with their MTCNN faces: the fixtures always, lfw-dev photos when present."""
    try:
        lfw_root = request.getfixturevalue("lfw_dev")
    except pytest.skip.Exception:
        lfw_root = None
    found = []
    for path in _photos(lfw_root):
        rgb = load_rgb(path)
        detections = detector.detect(rgb)
        if detections:
            found.append((path, rgb, detections))
    return found


def _dlib_shapes(predictor, rgb: np.ndarray, boxes) -> list:
    return [predictor(rgb, dlib.rectangle(*map(int, box))) for box in boxes]


def _points(shapes) -> np.ndarray:
    return np.array([[(p.x, p.y) for p in s.parts()] for s in shapes], dtype=np.float64)


def _assert_close_descriptors(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    l2 = np.linalg.norm(ours - theirs, axis=1)
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert l2.max() <= MAX_L2, f"{what}: L2 {l2.max():.2e}"
    assert cosine.min() >= MIN_COSINE, f"{what}: cosine {cosine.min():.6f}"


def test_resnet_on_onnx_equals_dlib_on_the_same_chips(frames, onnx_embedder, dlib_predictor, dlib_net) -> None:
    chips = np.stack([dlib.get_face_chip(rgb, shape, 150, 0.25) for _, rgb, detections in frames
                      for shape in _dlib_shapes(dlib_predictor, rgb, [d.box for d in detections])])
    theirs = np.array([np.asarray(dlib_net.compute_face_descriptor(chip)) for chip in chips])
    ours = onnx_embedder.embed_chips(chips)
    assert ours.shape == (len(chips), 128) and ours.dtype == np.float32
    assert len(chips) >= 5  # the five fixture faces at least
    _assert_close_descriptors(ours, theirs, "same chips")


def test_a_batch_gives_each_face_its_own_descriptor(frames, onnx_embedder, dlib_predictor) -> None:
    _, rgb, detections = frames[0]
    chip = dlib.get_face_chip(rgb, _dlib_shapes(dlib_predictor, rgb, [detections[0].box])[0], 150, 0.25)
    batch = np.stack([chip, chip[:, ::-1], chip])
    together = onnx_embedder.embed_chips(batch)
    alone = np.concatenate([onnx_embedder.embed_chips(c[None]) for c in batch])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert np.linalg.norm(together[0] - together[1]) > 0.01  # a mirrored face is not the same vector


def test_landmarks_equal_dlibs_shape_predictor(frames, onnx_embedder, dlib_predictor) -> None:
    compared = 0
    for path, rgb, detections in frames:
        ours = onnx_embedder.landmarks(rgb, detections)
        theirs = _points(_dlib_shapes(dlib_predictor, rgb, [d.box for d in detections]))
        assert np.abs(ours - theirs).max() <= 0.5, path  # measured: identical (whole pixels)
        compared += len(detections)
    assert compared >= 5


def _assert_same_chips(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    # Measured identical on every face; allow one grey level on a few pixels for other builds of dlib.
    diff = np.abs(ours.astype(np.int16) - theirs.astype(np.int16))
    assert ours.shape == theirs.shape, what
    assert diff.max() <= 1 and (diff > 0).mean() <= 1e-3, f"{what}: max {diff.max()}, {(diff > 0).mean():.2%} differ"


def test_face_chips_equal_dlibs_on_the_same_landmarks(frames, dlib_predictor) -> None:
    for path, rgb, detections in frames:
        shapes = _dlib_shapes(dlib_predictor, rgb, [d.box for d in detections])
        batch = dlib.full_object_detections()
        for shape in shapes:
            batch.append(shape)
        # All faces of a frame in one extraction, as compute_face_descriptor does.
        _assert_same_chips(face_chips(rgb, _points(shapes)), np.stack(dlib.get_face_chips(rgb, batch, 150, 0.25)), str(path))


def test_face_chips_through_the_image_pyramid_and_a_shared_crop(dlib_predictor) -> None:
    """Large faces make dlib downsample (pyramid_down<2>) before sampling; two faces share one crop."""
    photo = load_rgb(FIXTURE_IMAGES / "probe_eileen_collins.jpg")
    large = np.asarray(Image.fromarray(photo).resize((photo.shape[1] * 4, photo.shape[0] * 4), Image.BILINEAR))
    small = np.asarray(Image.fromarray(photo).resize((photo.shape[1] * 4 // 3, photo.shape[0] * 4 // 3), Image.BILINEAR))
    frame = np.zeros((large.shape[0], large.shape[1] + small.shape[1], 3), np.uint8)
    frame[:, :large.shape[1]] = large
    frame[:small.shape[0], large.shape[1]:] = small
    detector = dlib.get_frontal_face_detector()
    rects = list(detector(frame, 0))
    assert len(rects) == 2
    shapes = [dlib_predictor(frame, r) for r in rects]
    batch = dlib.full_object_detections()
    for shape in shapes:
        batch.append(shape)
    ours = face_chips(frame, _points(shapes))
    _assert_same_chips(ours, np.stack(dlib.get_face_chips(frame, batch, 150, 0.25)), "pyramid, two faces")
    _assert_same_chips(face_chips(frame, _points(shapes[:1])), dlib.get_face_chip(frame, shapes[0], 150, 0.25)[None], "one face")


def test_face_chips_at_and_beyond_the_frame_edge(dlib_predictor) -> None:
    """Chips reaching past the frame are black there, as dlib's; a chip wholly outside is all black."""
    photo = load_rgb(FIXTURE_IMAGES / "probe_eileen_collins.jpg")
    [rect] = list(dlib.get_frontal_face_detector()(photo, 1))
    shape = dlib_predictor(photo, rect)
    cut = np.ascontiguousarray(photo[:, (rect.left() + rect.right()) // 2:])  # half the face out of frame
    moved = [dlib.point(p.x - (rect.left() + rect.right()) // 2, p.y) for p in shape.parts()]
    for frame, parts in [(cut, moved), (photo, [dlib.point(p.x + 5000, p.y) for p in shape.parts()])]:
        detection = dlib.full_object_detection(rect, dlib.points(parts))
        points = np.array([(p.x, p.y) for p in parts], dtype=np.float64)[None]
        _assert_same_chips(face_chips(frame, points), dlib.get_face_chip(frame, detection, 150, 0.25)[None], "edge")
    assert face_chips(photo, points).max() == 0


def test_embedder_equals_the_dlib_backend_end_to_end(frames, onnx_embedder) -> None:
    from recognizer.embed.dlib_native import DlibResNetEmbedder

    native = DlibResNetEmbedder()
    for path, rgb, detections in frames:
        _assert_close_descriptors(onnx_embedder.embed(rgb, detections), native.embed(rgb, detections), str(path))


def test_all_faces_of_a_frame_go_through_onnx_runtime_in_one_call(onnx_embedder: DlibResNetOnnxEmbedder) -> None:
    rgb = load_rgb(FIXTURE_IMAGES / "probe_eileen_collins.jpg")
    frame = np.ascontiguousarray(np.concatenate([rgb, rgb[:, ::-1]], axis=1))
    width = rgb.shape[1]
    face = Detection((width // 4, rgb.shape[0] // 5, 3 * width // 4, 4 * rgb.shape[0] // 5), 1.0)
    twin = Detection((2 * width - face.box[2], face.box[1], 2 * width - face.box[0], face.box[3]), 1.0)
    session, calls = onnx_embedder._session, []

    class Counting:
        def run(self, outputs, feeds):
            calls.append(next(iter(feeds.values())).shape)
            return session.run(outputs, feeds)

    onnx_embedder._session = Counting()
    try:
        vectors = onnx_embedder.embed(frame, [face, twin])
    finally:
        onnx_embedder._session = session
    assert calls == [(2, 3, 150, 150)] and vectors.shape == (2, 128)
    assert onnx_embedder.embed(frame, []).shape == (0, 128)


def test_missing_model_files_are_named(tmp_path: Path) -> None:
    from recognizer.model_files import ModelUnavailable

    with pytest.raises(ModelUnavailable, match="dlib_resnet.onnx, shape_predictor_5.npz not found"):
        DlibResNetOnnxEmbedder(tmp_path)


def test_same_identities_as_the_dlib_backend_on_lfw_dev(onnx_embedder, detector, lfw_dev: Path) -> None:
    """A gallery enrolled with dlib itself; every val photo and stranger gets the same name through
    the ONNX path, at the threshold dlib's val split chooses."""
    from recognizer.training import fit as training
    from recognizer.embed.dlib_native import DlibResNetEmbedder
    from recognizer.pipeline import FacePipeline

    native = FacePipeline(detector, DlibResNetEmbedder())
    served = FacePipeline(detector, onnx_embedder)
    train = training.labelled_split(lfw_dev, "training")[::4]  # a quarter of each person's photos
    val, unknown = training.labelled_split(lfw_dev, "val"), training.unknown_items(lfw_dev / "unknown")
    reference_val = training.embed_images(native, val)
    classifier, _ = training.fit(native, training.embed_images(native, train), reference_val)
    reference_unknown = training.embed_images(native, unknown)
    ours_val, ours_unknown = training.embed_images(served, val), training.embed_images(served, unknown)
    names = lambda s: [i.name for i in classifier.classify(s.embeddings)]  # noqa: E731
    assert names(ours_val) == names(reference_val)
    assert names(ours_unknown) == names(reference_unknown)
    _assert_close_descriptors(np.concatenate([ours_val.embeddings, ours_unknown.embeddings]),
                              np.concatenate([reference_val.embeddings, reference_unknown.embeddings]), "lfw-dev")
    assert training.evaluate(classifier, ours_val, ours_unknown)["accuracy"] >= 0.95
