"""Recognizer speed in-process: warm handler latency, cold start (init), and the seed's
"load the model per request" baseline on the same frames, as a ratio, in one run.

    .venv/bin/python scripts/bench_recognizer.py [--requests 30] [--threads 1 2]

Prints one JSON document (also saved to bench-results/recognizer.json).
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

sys.path.insert(0, str(Path(__file__).resolve().parent / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_common import FIXTURES, frames, machine, save, summary  # noqa: E402


def _event(body: bytes) -> dict:
    return {"httpMethod": "POST", "resource": "/recognize", "path": "/recognize",
            "headers": {"Content-Type": "image/jpeg"}, "body": base64.b64encode(body).decode(), "isBase64Encoded": True}


def _model_dir() -> Path:
    """A small real model (the demo person) so classification runs as in production."""
    from recognizer.training import fit as training
    from recognizer.classify.artifact_store import write_local
    from recognizer.classify.open_set import OpenSetClassifier
    from recognizer.training.dataset import LabelledImage
    from recognizer.pipeline import FacePipeline

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
    env = {**os.environ, "FACEGATE_MODEL_DIR": str(model_dir), "FACEGATE_DETECTOR": detector, "FACEGATE_LOG_LEVEL": "WARNING"}
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


def detectors(bodies: dict[str, bytes], n: int) -> dict:
    """Detection alone: MTCNN on ONNX Runtime vs facenet-pytorch's MTCNN (torch)."""
    from recognizer.detect.registry import make_detector
    from recognizer.image_decode import decode_image

    result = {}
    for name in ("mtcnn", "mtcnn-torch"):
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
    args = parser.parse_args()

    bodies = frames()
    model_dir = _model_dir()
    result: dict = {"machine": machine(), "warm": {}, "cold_start": {}}
    for threads in args.threads:
        os.environ["FACEGATE_THREADS"] = str(threads)
        service = _service(model_dir)
        result["warm"][f"threads={threads}"] = {size: warm(service, body, args.requests) for size, body in bodies.items()}
    os.environ["FACEGATE_THREADS"] = "1"
    result["cold_start"]["lean (mtcnn onnx)"] = cold_start(model_dir, args.cold_samples, "mtcnn")
    result["cold_start"]["torch (mtcnn torch)"] = cold_start(model_dir, args.cold_samples, "mtcnn-torch")
    result["per_request_load"] = {size: per_request_load(model_dir, body, args.baseline_requests) for size, body in bodies.items()}
    result["detection_only"] = detectors(bodies, args.requests)
    warm2 = result["warm"]["threads=2"]
    result["baseline_over_warm_p50"] = {size: round(result["per_request_load"][size]["p50"] / warm2[size]["p50"], 1)
                                        for size in bodies}
    save("recognizer", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
