"""Embeddings for the door bench, cached on disk: lfw-dev's splits, lfw-strangers, and visit views of strangers.

Embedding 3,277 strangers takes minutes here, so each set is written once to `--cache` (npz: embeddings, labels,
paths) and reused while its file list and backend are unchanged.

A stranger has one photo, but a visit is several clips of the same face. `visit_views` makes the other clips of a
visit from that photo (mirrored, zoomed and tilted, darker and blurred and re-compressed): views of one photo are
more alike than real clips of one person, so a door that holds against them is not helped by independence.

    python scripts/bench/door_embeddings.py --cache /tmp/facegate-door-cache [--smoke]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from facegate_rigs.bench_common import SMOKE_HELP
from facegate_rigs.paths import ROOT
from recognizer.training import fit as training
from recognizer.training.dataset import LabelledImage

log = logging.getLogger("door_embeddings")
DATASETS = ROOT.parent / "shared" / "datasets"
VISIT_VIEWS = 4  # clips per stranger visit: the photo and three views of it
SMOKE_IMAGES = 6  # images per set in a smoke run, spread over the set's people


def thinned(items: list[LabelledImage], limit: int | None) -> list[LabelledImage]:
    """At most `limit` of `items`, evenly spread (the splits are sorted by person: a stride keeps several people)."""
    if limit is None or len(items) <= limit:
        return items
    return items[::len(items) // limit][:limit]


def visit_views(rgb: np.ndarray) -> list[np.ndarray]:
    """The clips of one visit made from one photo: as taken, mirrored, zoomed in and tilted 6°, darker + blurred +
    JPEG quality 35 (a dim doorway camera)."""
    image = Image.fromarray(rgb)
    w, h = image.size
    zoomed = image.crop((int(w * 0.08), int(h * 0.06), int(w * 0.94), int(h * 0.92))).resize((w, h), Image.BILINEAR)
    dim = ImageEnhance.Brightness(image).enhance(0.55).filter(ImageFilter.GaussianBlur(1.2))
    buffer = io.BytesIO()
    dim.save(buffer, format="JPEG", quality=35)
    return [rgb, rgb[:, ::-1].copy(), np.asarray(zoomed.rotate(6, resample=Image.BILINEAR)),
            np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))]


@dataclass
class CachedSet:
    """Embeddings of one image set; `view` says which visit view each row is (0 = the photo as taken)."""

    embeddings: np.ndarray
    labels: list[str]
    paths: list[str]
    view: np.ndarray
    missed: list[str]


def _key(items: list[LabelledImage], views: bool, backend: str) -> str:
    text = json.dumps([backend, views, [(str(i.path), i.label) for i in items]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def embed_set(pipeline, items: list[LabelledImage], cache: Path, name: str, views: bool = False) -> CachedSet:
    """Embed the central face of every image (with `views`: of its visit views 1.., not the photo), cached in `cache`."""
    file = cache / f"{name}-{_key(items, views, pipeline.embedder.name)}.npz"
    if file.exists():
        with np.load(file, allow_pickle=False) as data:
            return CachedSet(data["embeddings"], list(data["labels"]), list(data["paths"]), data["view"],
                             list(data["missed"]))
    vectors, labels, paths, view, missed = [], [], [], [], []
    t0 = time.perf_counter()
    for n, item in enumerate(items, 1):
        rgb = training.load_rgb(item.path)
        frames = list(enumerate(visit_views(rgb)))[1:] if views else [(0, rgb)]  # view 0 is the plain set's
        for v, frame in frames:
            face = training.central_face(pipeline.detector.detect(frame), frame.shape[1], frame.shape[0])
            if face is None:
                missed.append(f"{item.path}#{v}")
                continue
            vectors.append(pipeline.embedder.embed(frame, [face])[0])
            labels.append(item.label)
            paths.append(str(item.path))
            view.append(v)
        if n % 200 == 0:
            log.info("embedded %s %d/%d (%.0f s)", name, n, len(items), time.perf_counter() - t0)
    result = CachedSet(np.asarray(vectors, np.float32).reshape(-1, pipeline.embedder.dimension), labels, paths,
                       np.asarray(view, np.int32), missed)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(file, embeddings=result.embeddings, labels=np.array(labels, dtype=str), paths=np.array(paths, dtype=str),
             view=result.view, missed=np.array(missed, dtype=str))
    return result


def default_pipeline():
    """The served dlib pipeline (ONNX Runtime), exported into the user cache on first use."""
    from recognizer.pipeline import FacePipeline
    from recognizer.face_library.model_cache import ensure_onnx_models

    ensure_onnx_models()
    return FacePipeline.load("dlib")


def all_sets(pipeline, cache: Path, dev: Path, strangers: Path,
             with_views: bool = True, limit: int | None = None) -> dict[str, CachedSet]:
    """training, val, dev_unknown, strangers and (with `with_views`) val_views and stranger_views, cached; `limit`
    keeps that many images of each set (a smoke run)."""
    split = lambda name: thinned(training.labelled_split(dev, name), limit)  # noqa: E731
    unknown = lambda folder: thinned(training.unknown_items(folder), limit)  # noqa: E731
    sets: dict[str, Callable[[], CachedSet]] = {
        "training": lambda: embed_set(pipeline, split("training"), cache, "training"),
        "val": lambda: embed_set(pipeline, split("val"), cache, "val"),
        "dev_unknown": lambda: embed_set(pipeline, unknown(dev / "unknown"), cache, "dev_unknown"),
        "strangers": lambda: embed_set(pipeline, unknown(strangers), cache, "strangers"),
    }
    if with_views:
        sets["val_views"] = lambda: embed_set(pipeline, split("val"), cache, "val_views", views=True)
        sets["stranger_views"] = lambda: embed_set(pipeline, unknown(strangers), cache, "stranger_views", views=True)
    return {name: make() for name, make in sets.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/facegate-door-cache"))
    parser.add_argument("--dev", type=Path, default=DATASETS / "lfw-dev")
    parser.add_argument("--strangers", type=Path, default=DATASETS / "lfw-strangers" / "unknown")
    parser.add_argument("--no-views", action="store_true", help="Skip the visit views of the strangers.")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + f"; {SMOKE_IMAGES} images a set, no cache")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) if args.smoke else args.cache  # a smoke run embeds afresh, and keeps nothing
        sets = all_sets(default_pipeline(), cache, args.dev, args.strangers, with_views=not args.no_views,
                        limit=SMOKE_IMAGES if args.smoke else None)
    print(json.dumps({name: {"n": len(s.labels), "missed": len(s.missed)} for name, s in sets.items()}))


if __name__ == "__main__":
    main()
