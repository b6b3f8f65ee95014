"""Lean recognizer image (ONNX Runtime + dlib, no torch) against the torch image, in one run:
image size, cold start through the emulator's API Gateway (first request on a fresh container,
several samples, median), warm p50/p95 for 250x250 and 640x480 frames; a table and ratios.

    .venv/bin/python scripts/bench/images.py [--cold 5] [--warm 30]

Needs the docker engine and both images (scripts/prepare-images builds them). Starts the compose
emulator if it is not running, deploys two throwaway stacks and destroys them afterwards.
Writes bench-results/images.json and bench-results/images.png.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_common import (RESULTS, cold_starts, frames, grouped_bars, machine, poster, save, summary,  # noqa: E402
                          warm_latencies)

IMAGES = {"lean": "facegate/recognizer:latest", "torch": "facegate/recognizer-torch:latest"}


def image_size_mb(ref: str) -> float:
    import docker

    return round(docker.from_env().images.get(ref).attrs["Size"] / 1e6, 1)


def measure(variant: str, image: str, target, cold: int, warm: int, bodies: dict[str, bytes]) -> dict:
    from services import stack

    prefix = f"fgbench-{variant}"
    deployed = stack.deploy(target, stack.DeployOptions(prefix=prefix, image=image, seed=False))
    outputs = deployed.outputs
    post = poster(outputs.recognize_url, outputs.api_key)
    try:
        cold_ms = cold_starts(target.client("lambda"), outputs.function_name, post, bodies["250x250"], cold)
        warm_ms = {size: summary(warm_latencies(post, body, warm)) for size, body in bodies.items()}
    finally:
        stack.destroy(target, prefix)
    return {"image": image, "size_mb": image_size_mb(image), "cold_start_ms": {**summary(cold_ms), "samples": [round(x) for x in cold_ms]},
            "warm_ms": warm_ms}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(result["variants"])
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    axes[0].bar(variants, [result["variants"][v]["size_mb"] for v in variants], color=["tab:green", "tab:gray"])
    axes[0].set_title("image size (MB)")
    axes[1].bar(variants, [result["variants"][v]["cold_start_ms"]["p50"] for v in variants], color=["tab:green", "tab:gray"])
    axes[1].set_title("cold start via API GW, median (ms)")
    sizes = list(result["variants"][variants[0]]["warm_ms"])
    grouped_bars(axes[2], sizes, {v: [result["variants"][v]["warm_ms"][s]["p50"] for s in sizes] for v in variants},
                 "warm p50 via API GW (ms)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--warm", type=int, default=30)
    parser.add_argument("--endpoint-url", default="http://localhost:4566")
    args = parser.parse_args()

    from services import local_stack
    from services.target import Target

    started = local_stack.ensure_emulator(args.endpoint_url)
    target = Target(endpoint_url=args.endpoint_url)
    bodies = frames()
    result = {"machine": machine(), "variants": {}}
    try:
        for variant, image in IMAGES.items():
            result["variants"][variant] = measure(variant, image, target, args.cold, args.warm, bodies)
    finally:
        if started:
            local_stack.stop_stack()
    lean, torch = result["variants"]["lean"], result["variants"]["torch"]
    result["ratios_torch_over_lean"] = {
        "size": round(torch["size_mb"] / lean["size_mb"], 2),
        "cold_start_p50": round(torch["cold_start_ms"]["p50"] / lean["cold_start_ms"]["p50"], 2),
        **{f"warm_p50_{s}": round(torch["warm_ms"][s]["p50"] / lean["warm_ms"][s]["p50"], 2) for s in bodies},
    }
    save("images", result)
    plot(result, RESULTS / "images.png")
    _print_table(result)
    print(json.dumps(result, indent=2))


def _print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="recognizer images through the emulator's API Gateway")
    for column in ("image", "size MB", "cold p50 ms", "warm 250x250 p50/p95", "warm 640x480 p50/p95"):
        table.add_column(column)
    for name, v in result["variants"].items():
        w = v["warm_ms"]
        table.add_row(name, str(v["size_mb"]), str(v["cold_start_ms"]["p50"]),
                      f"{w['250x250']['p50']} / {w['250x250']['p95']}", f"{w['640x480']['p50']} / {w['640x480']['p95']}")
    Console(stderr=True).print(table)
    Console(stderr=True).print(f"torch / lean: {result['ratios_torch_over_lean']}")


if __name__ == "__main__":
    main()
