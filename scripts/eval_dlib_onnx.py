"""dlib's face descriptor on ONNX Runtime against dlib itself: lfw-dev accuracy per alignment, and
in-process speed.

    .venv/bin/python scripts/eval_dlib_onnx.py accuracy [--data ../shared/datasets/lfw-dev]
    .venv/bin/python scripts/eval_dlib_onnx.py speed [--repeat 30]
    .venv/bin/python scripts/eval_dlib_onnx.py parity [--data ../shared/datasets/lfw-dev]

Both build the ONNX model and the landmark npz into a temporary folder first. `accuracy` runs
MTCNN once per photo and embeds the same detections with every variant:
  dlib           dlib's own shape predictor, chips and ResNet (the current backend)
  onnx           numpy shape predictor + numpy chips + ONNX ResNet (DlibResNetOnnxEmbedder)
  mtcnn-meanface chips aligned from MTCNN's five points onto dlib's 68-point mean face + ONNX
  mtcnn-fitted   chips aligned from MTCNN's five points onto a template fitted on the training
                 split (where MTCNN's points fall in dlib-aligned chips) + ONNX
then fits (threshold on val) and evaluates each with recognizer.training.fit. Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from recognizer.embed.dlib_resnet import DlibResNetOnnxEmbedder
from recognizer.embed.face_chips import CHIP_SIZE, DLIB_5_POINT_TEMPLATE, PADDING, face_chips
from recognizer.faces import Detection
from recognizer.embed.similarity import SimilarityFit
from recognizer.training import fit as training

ROOT = Path(__file__).resolve().parent.parent

# MTCNN's points (image-left eye, image-right eye, nose tip, mouth corners) on dlib's 68-point
# mean face (interpolation.h, get_face_chip_details): eye centres = mean of the six eye contour
# points 36-41 / 42-47, nose tip = 30, mouth corners = 48 / 54.
MEAN_FACE_MTCNN = np.array([
    [np.mean([0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743]),
     np.mean([0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077])],
    [np.mean([0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335]),
     np.mean([0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099])],
    [0.490127, 0.515625], [0.254149, 0.780233], [0.726104, 0.780233]])


def build_models() -> Path:
    from recognizer.export import dlib_resnet_to_onnx, dlib_shape_predictor_to_npz

    out = Path(tempfile.mkdtemp(prefix="facegate-dlib-onnx-"))
    dlib_resnet_to_onnx.export(out)
    dlib_shape_predictor_to_npz.export(out)
    return out


class CachedDetector:
    """The served detector (MTCNN on ONNX Runtime, serving settings), run once per photo whatever
    embedder follows."""

    name = "mtcnn-cached"

    def __init__(self) -> None:
        from recognizer.detect.registry import make_detector

        self._detector = make_detector("mtcnn")
        self._cache: dict[bytes, list[Detection]] = {}

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        key = rgb.tobytes()[::97] + bytes(str(rgb.shape), "ascii")
        if key not in self._cache:
            self._cache[key] = self._detector.detect(rgb)
        return self._cache[key]


class MtcnnAligned:
    """The ONNX ResNet on chips aligned from MTCNN's own five landmarks onto `template`."""

    name, dimension, default_threshold = "dlib", 128, 0.55

    def __init__(self, onnx: DlibResNetOnnxEmbedder, template: np.ndarray) -> None:
        self._onnx, self.template = onnx, template

    def embed(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        if not detections:
            return np.zeros((0, 128), np.float32)
        points = np.array([d.landmarks for d in detections], dtype=np.float64)
        return self._onnx.embed_chips(face_chips(rgb, points, self.template))


def fitted_mtcnn_template(onnx: DlibResNetOnnxEmbedder, detector: CachedDetector, items) -> np.ndarray:
    """Where MTCNN's five points land, on average, in dlib-aligned unit chips (training photos)."""
    from recognizer.image_decode import load_rgb

    template_px = (PADDING + DLIB_5_POINT_TEMPLATE) / (2 * PADDING + 1) * CHIP_SIZE
    fit = SimilarityFit(template_px)
    placed = []
    for item in items:
        rgb = load_rgb(item.path)
        face = training.central_face(detector.detect(rgb), rgb.shape[1], rgb.shape[0])
        if face is None:
            continue
        m, t = fit.transforms(onnx.landmarks(rgb, [face]))
        chip_px = (np.array(face.landmarks) - t[0]) @ np.linalg.inv(m[0]).T
        placed.append(chip_px / CHIP_SIZE * (2 * PADDING + 1) - PADDING)
    return np.mean(placed, axis=0)


def accuracy(data: Path) -> dict:
    from recognizer.embed.dlib_native import DlibResNetEmbedder
    from recognizer.pipeline import FacePipeline

    models = build_models()
    detector = CachedDetector()
    onnx = DlibResNetOnnxEmbedder(models, threads=1)
    train_items = training.labelled_split(data, "training")
    variants = {"dlib": DlibResNetEmbedder(), "onnx": onnx,
                "mtcnn-meanface": MtcnnAligned(onnx, MEAN_FACE_MTCNN),
                "mtcnn-fitted": MtcnnAligned(onnx, fitted_mtcnn_template(onnx, detector, train_items))}
    splits = {"train": train_items, "val": training.labelled_split(data, "val"),
              "unknown": training.unknown_items(data / "unknown")}
    results, embedded = {}, {}
    for name, embedder in variants.items():
        pipeline = FacePipeline(detector, embedder)
        sets = {split: training.embed_images(pipeline, items) for split, items in splits.items()}
        classifier, fit_metrics = training.fit(pipeline, sets["train"], sets["val"])
        results[name] = {**fit_metrics, **training.evaluate(classifier, sets["val"], sets["unknown"])}
        names = [i.name for i in classifier.classify(np.concatenate([sets["val"].embeddings, sets["unknown"].embeddings]))]
        embedded[name] = (np.concatenate([s.embeddings for s in sets.values()]), names)
    reference, reference_names = embedded["dlib"]
    for name, (vectors, names) in embedded.items():
        l2 = np.linalg.norm(vectors - reference, axis=1)
        cosine = (vectors * reference).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(reference, axis=1)
        results[name].update({"faces": len(vectors), "max_l2_vs_dlib": float(l2.max()), "min_cosine_vs_dlib": float(cosine.min()),
                              "same_names_as_dlib_own_classifier": sum(a == b for a, b in zip(names, reference_names))})
    results["mtcnn-fitted"]["template"] = np.round(variants["mtcnn-fitted"].template, 4).tolist()
    return results


def _timed(fn, repeat: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def speed(repeat: int) -> dict:
    """Median ms per call for one and two faces of the fixture photo (same faces for every path)."""
    import dlib
    import face_recognition_models as frm

    from recognizer.embed.dlib_native import DlibResNetEmbedder
    from recognizer.image_decode import load_rgb

    models = build_models()
    rgb = load_rgb(ROOT / "fixtures" / "images" / "probe_eileen_collins.jpg")
    face = CachedDetector().detect(rgb)[0]
    # A second face: the same photo side by side, so both faces are real and the frame is one image.
    pair = np.ascontiguousarray(np.concatenate([rgb, rgb[:, ::-1]], axis=1))
    mirrored = Detection((rgb.shape[1] * 2 - face.box[2], face.box[1], rgb.shape[1] * 2 - face.box[0], face.box[3]), face.score)
    frames = {1: (rgb, [face]), 2: (pair, [face, mirrored])}
    native = DlibResNetEmbedder()
    predictor = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    result: dict = {"machine_cores": len(__import__("os").sched_getaffinity(0))}
    for faces, (frame, detections) in frames.items():
        row = {"dlib_native_embed_ms": _timed(lambda: native.embed(frame, detections), repeat),
               "dlib_native_landmarks_ms": _timed(lambda: [predictor(frame, dlib.rectangle(*d.box)) for d in detections], repeat)}
        for threads in (1, 2):
            onnx = DlibResNetOnnxEmbedder(models, threads=threads)
            chips = face_chips(frame, onnx.landmarks(frame, detections))
            row[f"onnx_t{threads}_embed_ms"] = _timed(lambda: onnx.embed(frame, detections), repeat)
            row[f"onnx_t{threads}_resnet_only_ms"] = _timed(lambda: onnx.embed_chips(chips), repeat)
        row["numpy_landmarks_ms"] = _timed(lambda: onnx.landmarks(frame, detections), repeat)
        landmarks = onnx.landmarks(frame, detections)
        row["numpy_chips_ms"] = _timed(lambda: face_chips(frame, landmarks), repeat)
        result[f"{faces}_faces"] = {k: round(v, 2) for k, v in row.items()}
    return result


def parity(data: Path) -> dict:
    """Worst differences from dlib over every face of the fixtures and lfw-dev (MTCNN boxes):
    landmarks, chips on the same landmarks (all faces of a photo at once), descriptors on the same chips."""
    import dlib
    import face_recognition_models as frm

    from recognizer.image_decode import load_rgb

    onnx = DlibResNetOnnxEmbedder(build_models(), threads=1)
    predictor = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
    detector = CachedDetector()
    worst = {"faces": 0, "landmark_px": 0.0, "chip_levels": 0, "chip_pixels_differing": 0, "l2": 0.0, "cosine": 1.0}
    for path in sorted((ROOT / "fixtures" / "images").rglob("*.jpg")) + sorted(data.rglob("*.jpg")):
        rgb = load_rgb(path)
        detections = detector.detect(rgb)
        if not detections:
            continue
        shapes = dlib.full_object_detections()
        for d in detections:
            shapes.append(predictor(rgb, dlib.rectangle(*d.box)))
        theirs_points = np.array([[(p.x, p.y) for p in s.parts()] for s in shapes], dtype=np.float64)
        theirs_chips = np.stack(dlib.get_face_chips(rgb, shapes, CHIP_SIZE, PADDING))
        chip_diff = np.abs(face_chips(rgb, theirs_points).astype(int) - theirs_chips.astype(int))
        theirs = np.array([np.asarray(net.compute_face_descriptor(chip)) for chip in theirs_chips])
        ours = onnx.embed_chips(theirs_chips)
        cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
        worst.update(faces=worst["faces"] + len(detections),
                     landmark_px=max(worst["landmark_px"], float(np.abs(onnx.landmarks(rgb, detections) - theirs_points).max())),
                     chip_levels=max(worst["chip_levels"], int(chip_diff.max())),
                     chip_pixels_differing=worst["chip_pixels_differing"] + int((chip_diff > 0).sum()),
                     l2=max(worst["l2"], float(np.linalg.norm(ours - theirs, axis=1).max())),
                     cosine=min(worst["cosine"], float(cosine.min())))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accuracy")
    acc.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets" / "lfw-dev")
    spd = sub.add_parser("speed")
    spd.add_argument("--repeat", type=int, default=30)
    par = sub.add_parser("parity")
    par.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets" / "lfw-dev")
    args = parser.parse_args()
    if args.command == "speed":
        print(json.dumps(speed(args.repeat), indent=2))
    else:
        print(json.dumps((accuracy if args.command == "accuracy" else parity)(args.data), indent=2))


if __name__ == "__main__":
    main()
