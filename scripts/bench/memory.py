"""What memory size the recognizer function should have: time, peak memory and price per million frames for each
size, side by side, in one run.

    .venv/bin/python scripts/bench/memory.py [--sizes 1024 1536 1769 2048 3008] [--warm 30] [--smoke]

Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU (AWS Lambda developer guide,
"Memory and computing power"). Each size is run here as the recognizer's Lambda image alone under `docker run`
with that share of a CPU (`--cpus memory/1769`) and that memory limit, invoked through the image's own runtime
interface emulator; the handler's own time per frame (`timings_ms.total`, what Lambda bills) is measured on a
640x480 frame with no face, one face and two faces. Price per million frames at list prices (us-east-1, x86_64
and arm64 per GB-second, plus the request charge); arm64's time is not measured here (this machine is x86_64),
so its column assumes the same time. Writes bench-results/memory.json and prints the table. Needs the docker
engine and the image scripts/prepare-images builds (facegate/recognizer:latest); no emulator, no dataset.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys

import numpy as np

from facegate_rigs.bench_common import SMOKE_HELP, bench_frames, jpeg, machine, save, summary
from facegate_rigs.lambda_container import lambda_container, recognize_event

ONE_VCPU_MB = 1769  # Lambda: a function with 1,769 MB has the equivalent of one vCPU
PRICE_GB_S = {"x86_64": 0.0000166667, "arm64": 0.0000133334}  # us-east-1, first 6 B GB-s a month
PRICE_REQUEST = 0.20 / 1e6
FRAMES = ("640x480 no face", "640x480 1 face", "640x480 2 faces")
DEFAULT_SIZES = (1024, 1536, 1769, 2048, 3008)


def frames() -> dict[str, tuple[bytes, int]]:
    """The 640x480 frames of the image bench and the same empty scene."""
    chosen = {name: frame for name, frame in bench_frames().items() if name in FRAMES}
    return {"640x480 no face": (jpeg(np.full((480, 640, 3), 90, dtype=np.uint8)), 0), **chosen}


def measure(image: str, memory_mb: int, sample: dict[str, tuple[bytes, int]], n: int) -> dict:
    """Handler time per frame (p50, mean...) and the container's peak memory at `memory_mb`."""
    cpus = memory_mb / ONE_VCPU_MB
    with lambda_container(image, cpus=cpus, memory_mb=memory_mb, ready_frame=sample["640x480 1 face"][0]) as function:
        row: dict = {"cpus": round(cpus, 3)}
        for name, (body, faces) in sample.items():
            event = recognize_event(body)
            first = function.invoke(event)
            if len(first["faces"]) != faces:
                raise RuntimeError(f"{name}: the recognizer found {len(first['faces'])} faces, the frame has {faces}")
            times = [function.invoke(event)["timings_ms"]["total"] for _ in range(n)]
            row[name] = {**summary(times), "mean": round(statistics.fmean(times), 1)}
        row["peak_memory_mb"] = function.peak_memory_mb()
    return row


def price_per_million(mean_ms: float, memory_mb: int, architecture: str) -> float:
    """Dollars for a million requests of `mean_ms` each at `memory_mb` (Lambda rounds up to 1 ms)."""
    gb_s = max(1.0, mean_ms) / 1000 * memory_mb / 1024
    return round(1e6 * (gb_s * PRICE_GB_S[architecture] + PRICE_REQUEST), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="memory sizes in MB")
    parser.add_argument("--warm", type=int, default=30, help="timed requests per frame and size")
    parser.add_argument("--image", default="facegate/recognizer:latest")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + "; one size, one request per frame")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.warm = [ONE_VCPU_MB], 1
    sample = frames()
    rows = {}
    for memory_mb in args.sizes:
        row = measure(args.image, memory_mb, sample, args.warm)
        # What a frame costs: the mix is what the device sends (most with one face); one face is the reference.
        row["usd_per_million_1_face"] = {arch: price_per_million(row["640x480 1 face"]["mean"], memory_mb, arch)
                                         for arch in PRICE_GB_S}
        rows[str(memory_mb)] = row
        print(f"{memory_mb} MB: " + ", ".join(f"{f} {row[f]['p50']} ms" for f in sample), file=sys.stderr)
    cheapest = min(rows, key=lambda mb: (rows[mb]["usd_per_million_1_face"]["x86_64"],
                                         rows[mb]["640x480 1 face"]["p50"]))
    result = {"machine": machine(), "image": args.image, "warm": args.warm, "one_vcpu_mb": ONE_VCPU_MB,
              "prices_gb_s": PRICE_GB_S, "price_request": PRICE_REQUEST, "sizes": rows, "cheapest_mb": int(cheapest)}
    save("memory", result, args.smoke)
    _print(result)
    print(json.dumps(result, indent=2))


def _print(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="recognizer memory size: handler time per 640x480 frame (ms, p50) and price")
    table.add_column("")
    sizes = result["sizes"]
    for memory_mb in sizes:
        table.add_column(f"{memory_mb} MB", justify="right")
    table.add_row("vCPU share", *(f"{row['cpus']:.2f}" for row in sizes.values()))
    for name in FRAMES:
        table.add_row(name, *(f"{row[name]['p50']:.0f}" for row in sizes.values()))
    table.add_row("peak memory (MB)", *(str(row["peak_memory_mb"]) for row in sizes.values()))
    for arch in PRICE_GB_S:
        table.add_row(f"$ per 1 M one-face frames, {arch}",
                      *(f"{row['usd_per_million_1_face'][arch]:.2f}" for row in sizes.values()))
    Console(stderr=True).print(table)
    print(f"cheapest: {result['cheapest_mb']} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
