"""Sixteen devices at 2 clips/s each against the emulator (sized for CI: 30 s; scripts/bench/load.py runs 2
minutes): no 5xx reaches a device, no clip is lost, and the backlog stays bounded by --stale-after (older clips
are uploaded without recognition, newest first)."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from facegate_contract import StackOutputs
from facegate_rigs.load import light_doorway_video, run_devices
from tests.conftest import ROOT

DEVICES = 16
SECONDS = 30.0
STALE_AFTER_S = 15.0


def test_sixteen_devices_lose_nothing_and_keep_the_backlog_bounded(enrolled: StackOutputs, add_device,
                                                                     tmp_path: Path) -> None:
    video = light_doorway_video(ROOT / "fixtures" / "videos" / "demo.mp4", tmp_path / "light.mp4")
    run = uuid.uuid4().hex[:4]
    devices = [add_device(f"it-load-{run}-{n}") for n in range(DEVICES)]
    report = run_devices(devices, video, tmp_path, SECONDS, STALE_AFTER_S)
    print(json.dumps(report.to_json()))

    assert report.clips >= DEVICES * SECONDS * 2 * 0.9  # 2 clips/s each, in real time
    assert report.uploaded == report.clips and report.pending == 0  # nothing lost
    assert report.server_errors == 0
    answered = sum(report.statuses[s] for s in ("recognised", "unknown", "no_face"))
    assert answered + report.statuses["skipped_stale"] == report.clips
    # Newest first: an answer is about a recent clip; the rest age into skipped_stale instead of piling up.
    assert report.oldest_answer_s <= STALE_AFTER_S + 15  # plus one attempt in flight and the drain's last round
