"""Many devices at once against the local stack, at length (facegate_rigs/load.py).

    .venv/bin/python scripts/bench/load.py [--devices 16] [--seconds 120] [--stale-after 30] [--drain-timeout 900] [--smoke]

Deploys a throwaway stack (prefix fgload), enrols the demo person, provisions the devices, runs them at 2 clips/s
each in real time, then lets them drain, and reports clips, uploads, recognitions vs stale skips, throttling, 5xx,
latency p50/p95, the oldest answer and how long the upload backlog took to drain; writes bench-results/load.json.
"""
from __future__ import annotations

import argparse
import json

from facegate_rigs.bench_common import SMOKE_HELP, machine, save
from facegate_rigs.load import light_doorway_video, run_devices
from facegate_rigs.paths import DEMO_VIDEO
from facegate_rigs.stack import bench_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--stale-after", type=float, default=30.0)
    parser.add_argument("--drain-timeout", type=float, default=900.0, help="how long each device may drain at the end")
    parser.add_argument("--endpoint-url", default="http://localhost:4566")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.smoke:
        args.devices, args.seconds, args.drain_timeout = 2, 2.0, 60.0

    with bench_stack(args.endpoint_url, "fgload") as bench:
        bench.enrol_fixture_people()
        devices = [bench.device(f"load-{n}") for n in range(args.devices)]
        video = light_doorway_video(DEMO_VIDEO, bench.work / "light.mp4")
        report = run_devices(devices, video, bench.work, args.seconds, args.stale_after, args.drain_timeout)
    result = {"machine": machine(), "stale_after_s": args.stale_after, **report.to_json()}
    save("load", result, args.smoke)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
