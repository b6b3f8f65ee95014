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
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_common import FIXTURES, ROOT, machine, save  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--endpoint-url", default="http://localhost:4566")
    args = parser.parse_args()

    from recognizer.pipeline import FacePipeline
    from recognizer.training.enrolment import enrol_listed_people
    from recognizer.training.model_cache import ensure_onnx_models
    from recognizer.training.stack_access import StackAccess
    from services import local_stack, stack
    from services.device_commands import provision
    from services.target import Target
    from tests.integration.chaos_rig import ChaosRig

    started = local_stack.ensure_emulator(args.endpoint_url)
    target, prefix = Target(endpoint_url=args.endpoint_url), "fgchaos"
    work = Path(tempfile.mkdtemp(prefix="facegate-chaos-"))
    try:
        outputs = stack.deploy(target, stack.DeployOptions(prefix=prefix)).outputs
        outputs.write(work / "outputs.json")
        ensure_onnx_models()
        enrol_listed_people(FacePipeline.load("dlib"), StackAccess.open(work / "outputs.json"), FIXTURES)
        provision(target, prefix, "chaos-cam").write(work / "chaos-cam.json")
        rig = ChaosRig(work / "chaos-cam.json", work, ROOT / "fixtures" / "videos" / "demo.mp4", args.endpoint_url,
                       seed=args.seed)
        for _ in range(args.runs):
            rig.chaos_run()
        drained = rig.drain() == 0
        report = rig.check(outputs, target, "chaos-cam")
    finally:
        stack.destroy(target, prefix)
        if started:
            local_stack.stop_stack()
    result = {"machine": machine(), "seed": args.seed, "drained": drained, **report.to_json()}
    save("chaos", result)
    print(json.dumps(result, indent=2))
    sys.exit(0 if drained and not report.problems else 1)


if __name__ == "__main__":
    main()
