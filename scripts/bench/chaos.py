"""The chaos suite at length: the device killed with SIGKILL at random moments, many times, while the emulator is
paused, restarted or its Lambda container killed; then drained and checked (facegate_rigs/chaos.py).

    .venv/bin/python scripts/bench/chaos.py [--runs 20] [--seed 7] [--endpoint-url http://localhost:4566] [--smoke]

Deploys a throwaway stack (prefix fgchaos), enrols the demo person, provisions a device, reports
runs x faults x clips and what the checks found; writes bench-results/chaos.json; exits 1 on any problem.
"""
from __future__ import annotations

import argparse
import json
import sys

from facegate_rigs.bench_common import SMOKE_HELP, machine, save
from facegate_rigs.chaos import ChaosRig
from facegate_rigs.paths import DEMO_VIDEO
from facegate_rigs.stack import bench_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--endpoint-url", default="http://localhost:4566")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + "; one run, the Lambda's container killed")
    args = parser.parse_args()
    if args.smoke:
        args.runs = 1

    with bench_stack(args.endpoint_url, "fgchaos") as bench:
        bench.enrol_fixture_people()
        rig = ChaosRig(bench.device("chaos-cam"), bench.work, DEMO_VIDEO,
                       args.endpoint_url, seed=args.seed)
        for _ in range(args.runs):
            rig.chaos_run("kill_lambda" if args.smoke else None)  # the one fault that leaves the emulator alone
        drained = rig.drain() == 0
        report = rig.check(bench.outputs, bench.target, "chaos-cam")
    result = {"machine": machine(), "seed": args.seed, "drained": drained, **report.to_json()}
    save("chaos", result, args.smoke)
    print(json.dumps(result, indent=2))
    sys.exit(0 if drained and not report.problems else 1)


if __name__ == "__main__":
    main()
