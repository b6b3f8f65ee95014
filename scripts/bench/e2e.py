"""End-to-end speed from the device's point of view, in one run against the local stack:

1. overhead: device round-trip latency vs the recognizer's in-process time on the same frames
   (host in-process, and the Lambda's own `timings_ms.total`), p50/p95 and ratios;
2. cold start of the image Lambda (first request on a fresh container, several samples);
3. sustained real-time rate: the device app replaying the demo video at 2 clips/s for 120 s,
   with the backlog (clips recorded but not yet recognised + uploaded) sampled over time.

    .venv/bin/python scripts/bench/e2e.py [--seconds 120] [--requests 30] [--cold 3]

Deploys (idempotently) into the compose emulator, enrols the demo person. Writes
bench-results/e2e.json and bench-results/e2e.png.
"""
from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_common import FIXTURES, RESULTS, ROOT, cold_starts, frames, grouped_bars, machine, save, summary  # noqa: E402


def _stack(endpoint: str):
    from services import stack
    from services.target import Target

    target = Target(endpoint_url=endpoint)
    outputs = stack.deploy(target, stack.DeployOptions()).outputs
    path = Path(tempfile.mkdtemp(prefix="facegate-bench-")) / "outputs.json"
    outputs.write(path)
    return target, outputs, path


def _enrol(outputs_path: Path) -> None:
    from recognizer.pipeline import FacePipeline
    from recognizer.face_library.enrolment import enrol_listed_people
    from recognizer.face_library.stack_access import StackAccess

    enrol_listed_people(FacePipeline.load("dlib"), StackAccess.open(outputs_path), FIXTURES)


def overhead(outputs, bodies: dict[str, bytes], n: int) -> dict:
    from pi_app.recognize_client import RecognizeClient
    from recognizer.classify.open_set import OpenSetClassifier
    from recognizer.classify.model_source import ModelSource
    from recognizer.pipeline import FacePipeline
    from recognizer.recognize.service import RecognizerService

    local = RecognizerService(FacePipeline.load("dlib"), ModelSource(OpenSetClassifier.empty("dlib", 0.55)))
    client = RecognizeClient(outputs.recognize_url, outputs.api_key, device_id="bench")
    result = {}
    for size, body in bodies.items():
        event = {"httpMethod": "POST", "resource": "/recognize", "headers": {"Content-Type": "image/jpeg"},
                 "body": base64.b64encode(body).decode(), "isBase64Encoded": True}
        local.handle(event)
        client.recognize(body)
        device, lambda_total, in_process = [], [], []
        for _ in range(n):
            start = time.perf_counter()
            answer = client.recognize(body)
            device.append((time.perf_counter() - start) * 1e3)
            lambda_total.append(float(answer.server_ms or 0))
            start = time.perf_counter()
            local.handle(event)
            in_process.append((time.perf_counter() - start) * 1e3)
        d, lt, ip = summary(device), summary(lambda_total), summary(in_process)
        result[size] = {"device_ms": d, "lambda_in_process_ms": lt, "host_in_process_ms": ip,
                        "overhead_ratio_vs_lambda": round(d["p50"] / lt["p50"], 2),
                        "overhead_ratio_vs_host": round(d["p50"] / ip["p50"], 2),
                        "fixed_overhead_ms_p50": round(d["p50"] - lt["p50"], 1)}
    client.close()
    return result


def sustained(outputs_path: Path, seconds: float) -> dict:
    from pi_app.camera.video_file import VideoFileCamera
    from pi_app.device_app import DeviceApp, DeviceConfig
    from pi_app.events import read_events
    from pi_app.stack_connection import connect
    from pi_app.video_manifest import VideoManifest

    manifest = VideoManifest.read(ROOT / "fixtures" / "videos" / "demo.json")
    work = Path(tempfile.mkdtemp(prefix="facegate-sustained-"))
    connection = connect("bench-cam", outputs=outputs_path)
    config = DeviceConfig(device_id="bench-cam", spool_dir=work / "spool", events_path=work / "events.jsonl",
                          duration_s=seconds, drain_timeout_s=60.0)
    started = time.time()
    try:
        run_summary = DeviceApp(config, VideoFileCamera(manifest.video, realtime=True, loop=True),
                                connection.recognizer, connection.uploader).run()
    finally:
        connection.close()
    events = read_events(config.events_path)
    from datetime import datetime

    def at(event) -> float:
        return datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp() - started

    recorded = sorted(at(e) for e in events if e["event"] == "clip_recorded")
    done = sorted(at(e) for e in events if e["event"] == "upload")
    timeline = []
    for t in range(0, int(seconds) + 1):
        timeline.append({"t": t, "backlog": sum(r <= t for r in recorded) - sum(d <= t for d in done)})
    head = [p["backlog"] for p in timeline if p["t"] < 20]
    tail = [p["backlog"] for p in timeline if seconds - 20 <= p["t"] <= seconds]
    return {"seconds": seconds, "clips": len(recorded), "clips_per_s": round(len(recorded) / seconds, 2),
            "backlog_max": max(p["backlog"] for p in timeline), "backlog_mean_first_20s": round(statistics.fmean(head), 2),
            "backlog_mean_last_20s": round(statistics.fmean(tail), 2),
            "backlog_growth": round(statistics.fmean(tail) - statistics.fmean(head), 2),
            "summary": run_summary, "timeline": timeline}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    sizes = list(result["overhead"])
    keys = ("host_in_process_ms", "lambda_in_process_ms", "device_ms")
    grouped_bars(axes[0], sizes, {k.replace("_ms", "").replace("_", " "): [result["overhead"][s][k]["p50"] for s in sizes]
                                  for k in keys}, "latency p50 (ms)")
    timeline = result["sustained"]["timeline"]
    axes[1].plot([p["t"] for p in timeline], [p["backlog"] for p in timeline])
    axes[1].set_title(f"backlog at {result['sustained']['clips_per_s']} clips/s")
    axes[1].set_xlabel("s")
    axes[1].set_ylabel("clips not yet done")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--endpoint-url", default="http://localhost:4566")
    args = parser.parse_args()

    from pi_app.recognize_client import RecognizeClient
    from services import local_stack

    started = local_stack.ensure_emulator(args.endpoint_url)
    try:
        target, outputs, outputs_path = _stack(args.endpoint_url)
        _enrol(outputs_path)
        bodies = frames()
        client = RecognizeClient(outputs.recognize_url, outputs.api_key, device_id="bench")
        post = lambda body: 200 if client.recognize(body) else 0  # noqa: E731
        cold = cold_starts(target.client("lambda"), outputs.function_name, post, bodies["250x250"], args.cold)
        time.sleep(16)  # let the fresh container follow the model pointer before measuring
        result = {"machine": machine(), "cold_start_ms": {**summary(cold), "samples": [round(x) for x in cold]},
                  "overhead": overhead(outputs, bodies, args.requests), "sustained": sustained(outputs_path, args.seconds)}
    finally:
        if started:
            local_stack.stop_stack()
    save("e2e", result)
    plot(result, RESULTS / "e2e.png")
    brief = {k: v for k, v in result.items() if k != "sustained"}
    brief["sustained"] = {k: v for k, v in result["sustained"].items() if k not in ("timeline",)}
    print(json.dumps(brief, indent=2))


if __name__ == "__main__":
    main()
