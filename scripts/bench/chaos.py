"""The chaos suite at length: the device killed with SIGKILL at random moments, many times, while the emulator is
paused, restarted or its Lambda container killed; then drained and checked (tests/integration/chaos_rig.py).

    .venv/bin/python scripts/bench/chaos.py [--runs 20] [--seed 7] [--endpoint-url http://localhost:4566]

Deploys a throwaway stack (prefix fgchaos), enrols the demo person, provisions a device, reports
runs x faults x clips and what the checks found; writes bench-results/chaos.json; exits 1 on any problem.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_common import ROOT, bench_stack, machine, save  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--endpoint-url", default="http://localhost:4566")
    args = parser.parse_args()

    from tests.integration.chaos_rig import ChaosRig

    with bench_stack(args.endpoint_url, "fgchaos") as bench:
        bench.enrol_fixture_people()
        rig = ChaosRig(bench.device("chaos-cam"), bench.work, ROOT / "fixtures" / "videos" / "demo.mp4",
                       args.endpoint_url, seed=args.seed)
        for _ in range(args.runs):
            rig.chaos_run()
        drained = rig.drain() == 0
        report = rig.check(bench.outputs, bench.target, "chaos-cam")
    result = {"machine": machine(), "seed": args.seed, "drained": drained, **report.to_json()}
    save("chaos", result)
    print(json.dumps(result, indent=2))
    sys.exit(0 if drained and not report.problems else 1)


if __name__ == "__main__":
    main()
