"""The chaos suite, sized for CI: the device killed with SIGKILL at random moments while the emulator is paused,
restarted or its Lambda container killed, then drained; every recorded clip ends in S3 once, with its one
recognition outcome, no sighting twice for a clip, and an empty spool. (scripts/bench/chaos.py runs many more.)"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from facegate_contract import StackOutputs
from facegate_rigs.chaos import FAULTS, ChaosRig
from services.target import Target
from tests.conftest import ROOT

SCHEDULE = (*FAULTS, None)  # each fault once, then one at random


def test_kills_and_faults_lose_no_clip_and_duplicate_no_sighting(deployed: tuple[StackOutputs, Path],
                                                                  enrolled: StackOutputs, target: Target,
                                                                  add_device, tmp_path: Path) -> None:
    device = f"it-chaos-{uuid.uuid4().hex[:6]}"
    rig = ChaosRig(add_device(device), tmp_path, ROOT / "fixtures" / "videos" / "demo.mp4",
                   deployed[0].endpoint_url or "", seed=11)
    for fault in SCHEDULE:
        rig.chaos_run(fault)
    assert rig.drain() == 0
    report = rig.check(deployed[0], target, device)
    print(json.dumps(report.to_json()))
    assert report.problems == []
    assert report.recorded > 0 and report.in_s3 == report.recorded
    assert report.kills == len(SCHEDULE) and set(report.faults) >= set(FAULTS)
