"""End-to-end speed from the device's point of view, in one run against the local stack:

1. overhead: device round-trip latency vs the recognizer's in-process time on the same frames
   (host in-process, and the Lambda's own `timings_ms.total`), p50/p95 and ratios;
2. cold start of the image Lambda (first request on a fresh container, several samples);
3. sustained real-time rate: the device app replaying the demo video at 2 clips/s for 120 s,
   with the backlog (clips recorded but not yet recognised + uploaded) sampled over time.

    .venv/bin/python scripts/bench/e2e.py [--seconds 120] [--requests 30] [--cold 3] [--smoke]

Deploys a throwaway stack (prefix fge2e) into the compose emulator, enrols the demo person, provisions a device
(its own API key, as a Pi), and destroys the stack after. Writes bench-results/e2e.json and bench-results/e2e.png.
"""
from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from datetime import datetime
from pathlib import Path

from facegate_rigs.bench_common import (
    SMOKE_HELP,
    cold_starts,
    frames,
    grouped_bars,
    machine,
    result_path,
    save,
    summary,
)
from facegate_rigs.paths import DEMO_VIDEO
from facegate_rigs.stack import bench_stack
from pi_app.transport.recognize_client import RecognizeClient
from pi_app.transport.stack_connection import connect


def overhead(client: RecognizeClient, bodies: dict[str, bytes], n: int) -> dict:
    """Per frame size: the device's round trip, the Lambda's own total and the same handler in this process."""
    from recognizer.classify.open_set import OpenSetClassifier
    from recognizer.classify.model_source import ModelSource
    from recognizer.pipeline import FacePipeline
    from recognizer.recognize.service import RecognizerService

    local = RecognizerService(FacePipeline.load("dlib"), ModelSource(OpenSetClassifier.empty("dlib", 0.55)))
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
    return result


def sustained(device_file: Path, work: Path, seconds: float) -> dict:
    """The device app replaying the demo video in real time for `seconds`: clips per second and the backlog."""
    from pi_app.camera.video_file import VideoFileCamera
    from pi_app.runtime.device_app import DeviceApp, DeviceConfig
    from pi_app.runtime.events import read_events

    connection = connect(device_file=device_file)
    config = DeviceConfig(device_id=connection.device_id, spool_dir=work / "spool", events_path=work / "events.jsonl",
                          duration_s=seconds, drain_timeout_s=60.0)
    started = time.time()
    try:
        run_summary = DeviceApp(config, VideoFileCamera(DEMO_VIDEO, realtime=True, loop=True),
                                connection.recognizer, connection.uploader).run()
    finally:
        connection.close()
    events = read_events(config.events_path)

    def at(event) -> float:
        return datetime.fromisoformat(event.ts.replace("Z", "+00:00")).timestamp() - started

    recorded = sorted(at(e) for e in events if e.name == "clip_recorded")
    done = sorted(at(e) for e in events if e.name == "upload")
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
    """Latency p50 per frame size beside the backlog over the sustained run."""
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
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.requests, args.cold = 2.0, 1, 1

    bodies = frames()
    if args.smoke:
        bodies = dict(list(bodies.items())[:1])
    with bench_stack(args.endpoint_url, "fge2e") as bench:
        bench.enrol_fixture_people()
        device_file = bench.device("e2e-cam")
        connection = connect(device_file=device_file)
        try:
            post = lambda body: 200 if connection.recognizer.recognize(body) else 0  # noqa: E731
            cold = cold_starts(bench.target.client("lambda"), bench.outputs.function_name, post,
                               next(iter(bodies.values())), args.cold)
            if not args.smoke:
                time.sleep(16)  # let the fresh container follow the model pointer before measuring
            measured = overhead(connection.recognizer, bodies, args.requests)
        finally:
            connection.close()
        result = {"machine": machine(), "cold_start_ms": {**summary(cold), "samples": [round(x) for x in cold]},
                  "overhead": measured, "sustained": sustained(device_file, bench.work / "sustained", args.seconds)}
    save("e2e", result, args.smoke)
    plot(result, result_path("e2e.png", args.smoke))
    brief = {k: v for k, v in result.items() if k != "sustained"}
    brief["sustained"] = {k: v for k, v in result["sustained"].items() if k not in ("timeline",)}
    print(json.dumps(brief, indent=2))


if __name__ == "__main__":
    main()
