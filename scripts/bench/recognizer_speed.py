"""Recognizer speed in-process: warm handler latency, cold start (init), and the seed's
"load the model per request" baseline on the same frames, as a ratio, in one run.

    .venv/bin/python scripts/bench/recognizer_speed.py [--requests 30] [--threads 1 2] [--smoke]

Prints one JSON document (also saved to bench-results/recognizer.json). (Not named recognizer.py: run as a script,
its folder comes first on the import path and would hide the recognizer package.)
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from facegate_rigs.bench_common import SMOKE_HELP, frames, machine, save, summary
from facegate_rigs.paths import FIXTURES


def _event(body: bytes) -> dict:
    return {"httpMethod": "POST", "resource": "/recognize", "path": "/recognize",
            "headers": {"Content-Type": "image/jpeg"}, "body": base64.b64encode(body).decode(), "isBase64Encoded": True}


def _model_dir() -> Path:
    """A small real model (the demo person) so classification runs as in production."""
    from recognizer.classify.artifact_store import write_local
    from recognizer.classify.open_set import OpenSetClassifier
    from recognizer.pipeline import FacePipeline
    from recognizer.training import fit as training
    from recognizer.training.dataset import LabelledImage

    pipeline = FacePipeline.load("dlib")
    items = [LabelledImage(p, "Eileen_Collins") for p in sorted((FIXTURES / "Eileen_Collins").glob("*.jpg"))]
    embedded = training.embed_images(pipeline, items)
    directory = Path(tempfile.mkdtemp(prefix="facegate-bench-"))
    write_local(directory, OpenSetClassifier.empty("dlib", 0.55).with_person("Eileen_Collins", embedded.embeddings), {})
    return directory


def _service(model_dir: Path):
    from recognizer.classify.open_set import OpenSetClassifier
    from recognizer.classify.model_source import ModelSource
    from recognizer.pipeline import FacePipeline
    from recognizer.recognize.service import RecognizerService

    return RecognizerService(FacePipeline.load("dlib"), ModelSource(OpenSetClassifier.empty("dlib", 0.55), local_dir=model_dir))


def cold_start(model_dir: Path, samples: int, detector: str = "mtcnn") -> dict:
    """A fresh interpreter importing the handler (all init + warm-up), as a Lambda cold start does."""
    code = ("import time; t = time.perf_counter(); import recognizer.recognize.handler as h; "
            "print(round((time.perf_counter() - t) * 1e3, 1))")
    # A Lambda always has a region: the handler makes its AWS clients at import.
    env = {"AWS_DEFAULT_REGION": "us-east-1", **os.environ, "FACEGATE_MODEL_DIR": str(model_dir),
           "FACEGATE_DETECTOR": detector, "FACEGATE_LOG_LEVEL": "WARNING"}
    for key in ("FACEGATE_MODEL_BUCKET", "FACEGATE_PEOPLE_TABLE", "FACEGATE_SIGHTINGS_TABLE"):
        env.pop(key, None)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        times.append({"import_and_init_ms": float(out.stdout.strip().splitlines()[-1]),
                      "process_ms": round((time.perf_counter() - start) * 1e3, 1)})
    return {"median_init_ms": statistics.median(t["import_and_init_ms"] for t in times),
            "median_process_ms": statistics.median(t["process_ms"] for t in times), "samples": times}


def warm(service, body: bytes, n: int) -> dict:
    event = _event(body)
    service.handle(event)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = service.handle(event)
        samples.append((time.perf_counter() - start) * 1e3)
        assert response["statusCode"] == 200, response
    return summary(samples)


def per_request_load(model_dir: Path, body: bytes, n: int) -> dict:
    """The seed's way: build the models for every request."""
    event = _event(body)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = _service(model_dir).handle(event)
        samples.append((time.perf_counter() - start) * 1e3)
        assert response["statusCode"] == 200
    return summary(samples)


def detectors(bodies: dict[str, bytes], n: int, names: tuple[str, ...] = ("mtcnn", "mtcnn-torch")) -> dict:
    """Detection alone: MTCNN on ONNX Runtime vs facenet-pytorch's MTCNN (torch)."""
    from recognizer.detect.registry import make_detector
    from recognizer.image_decode import decode_image

    result = {}
    for name in names:
        try:
            detector = make_detector(name)
        except Exception as exc:  # torch missing on this host
            result[name] = {"error": str(exc)}
            continue
        result[name] = {}
        for size, body in bodies.items():
            rgb = decode_image(body)
            detector.detect(rgb)
            samples = []
            for _ in range(n):
                start = time.perf_counter()
                detector.detect(rgb)
                samples.append((time.perf_counter() - start) * 1e3)
            result[name][size] = summary(samples)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--baseline-requests", type=int, default=8)
    parser.add_argument("--cold-samples", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + "; one thread count, no torch cold start")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.baseline_requests, args.cold_samples, args.threads = 1, 1, 1, [1]

    bodies = frames()
    model_dir = _model_dir()
    result: dict = {"machine": machine(), "warm": {}, "cold_start": {}}
    for threads in args.threads:
        os.environ["FACEGATE_THREADS"] = str(threads)
        service = _service(model_dir)
        result["warm"][f"threads={threads}"] = {size: warm(service, body, args.requests) for size, body in bodies.items()}
    os.environ["FACEGATE_THREADS"] = "1"
    result["cold_start"]["lean (mtcnn onnx)"] = cold_start(model_dir, args.cold_samples, "mtcnn")
    if not args.smoke:  # importing torch alone takes seconds
        result["cold_start"]["torch (mtcnn torch)"] = cold_start(model_dir, args.cold_samples, "mtcnn-torch")
    result["per_request_load"] = {size: per_request_load(model_dir, body, args.baseline_requests) for size, body in bodies.items()}
    result["detection_only"] = detectors(bodies, args.requests, ("mtcnn",) if args.smoke else ("mtcnn", "mtcnn-torch"))
    warm2 = result["warm"][f"threads={args.threads[-1]}"]
    result["baseline_over_warm_p50"] = {size: round(result["per_request_load"][size]["p50"] / warm2[size]["p50"], 1)
                                        for size in bodies}
    save("recognizer", result, args.smoke)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
