"""A chaos run against the local stack: the real device (`facegate run`, a process) is killed with SIGKILL at
random moments while the emulator is paused, restarted, or the Lambda's container is killed; then a last run
drains the spool. The checks say what must hold after any such history: every recorded clip in S3 once under its
key, one recognition per clip, no sighting twice for a clip, an empty spool.

Used by tests/integration/test_chaos.py (a few runs, sized for CI) and scripts/bench/chaos.py (many more).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boto3.dynamodb.conditions import Attr

from facegate_contract import StackOutputs
from facegate_rigs.paths import ROOT
from services import local_stack
from services.target import Target

FAULTS = ("pause_emulator", "restart_emulator", "kill_lambda")


@dataclass
class ChaosReport:
    """What happened, and what the checks found."""

    runs: int = 0
    faults: Counter = field(default_factory=Counter)
    kills: int = 0
    recorded: int = 0
    uploaded: int = 0
    in_s3: int = 0
    sightings_missing: int = 0  # faces answered while DynamoDB was down (the answer went out, the log line did not)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"runs": self.runs, "faults": dict(self.faults), "kills": self.kills, "clips_recorded": self.recorded,
                "clips_uploaded": self.uploaded, "clips_in_s3": self.in_s3,
                "sightings_missing": self.sightings_missing, "problems": self.problems}


def _compose(*args: str, timeout: float = 120) -> None:
    subprocess.run(["docker", "compose", *args], cwd=ROOT, check=True, capture_output=True, timeout=timeout)


def kill_lambda_containers() -> int:
    """SIGKILL the recognizer's running Lambda containers (the emulator starts fresh ones); returns how many."""
    import docker

    client = docker.from_env()
    doomed = [c for c in client.containers.list(filters={"network": "facegate"})
              if "recognizer" in " ".join(c.image.tags) and "emulator" not in c.name]
    for container in doomed:
        container.kill()
    return len(doomed)


def inject(fault: str, endpoint: str, seconds: float) -> None:
    """One fault, lasting about `seconds` (a restart takes as long as it takes)."""
    if fault == "pause_emulator":
        _compose("pause", "emulator")
        time.sleep(seconds)
        _compose("unpause", "emulator")
    elif fault == "restart_emulator":
        _compose("restart", "-t", "60", "emulator", timeout=300)  # a graceful stop saves the emulator's state
        deadline = time.monotonic() + 120
        while not local_stack.emulator_healthy(endpoint) and time.monotonic() < deadline:
            time.sleep(1)
    elif fault == "kill_lambda":
        kill_lambda_containers()
    else:
        raise ValueError(fault)


class ChaosRig:
    """Runs `facegate run` with one device file and one spool again and again."""

    def __init__(self, device_file: Path, work: Path, video: Path, endpoint: str, seed: int = 7) -> None:
        self.device_file = device_file
        self.work = work
        self.video = video
        self.endpoint = endpoint
        self.rng = random.Random(seed)
        self.report = ChaosReport()

    def _device(self, *extra: str) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FACEGATE_"))}
        return subprocess.Popen(
            [sys.executable, "-m", "facegate_cli", "run", "--device-file", str(self.device_file), "--camera",
             f"video:{self.video}", "--headless", "--no-motion-gate",
             "--upload", "all",  # the invariant below: every recorded clip reaches S3
             "--spool", str(self.work / "spool"), "--events", str(self.work / "events.jsonl"),
             "--visit-reports", str(self.work / "visits"),
             "--stale-after", "600", "--recognize-timeout", "5", *extra],
            cwd=self.work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def chaos_run(self, fault: str | None = None) -> None:
        """One run: the device records in real time; a fault hits (`fault`, or one at random); the device is killed
        at a random moment."""
        device = self._device("--loop")
        time.sleep(self.rng.uniform(1.5, 4.0))
        fault = fault or self.rng.choice(FAULTS)
        worker = threading.Thread(target=inject, args=(fault, self.endpoint, self.rng.uniform(2.0, 4.0)))
        worker.start()
        time.sleep(self.rng.uniform(0.5, 3.0))  # kill it while the fault lasts, or just after
        device.send_signal(signal.SIGKILL)
        device.wait(timeout=30)
        worker.join(timeout=300)
        self.report.runs += 1
        self.report.kills += 1
        self.report.faults[fault] += 1

    def drain(self, timeout_s: float = 300) -> int:
        """A last, undisturbed run that records briefly and works through everything left; returns its exit code."""
        device = self._device("--duration", "1", "--drain-timeout", str(timeout_s - 30), "--realtime")
        return device.wait(timeout=timeout_s)

    def check(self, outputs: StackOutputs, target: Target, device_id: str) -> ChaosReport:
        """The invariants after any history of faults and kills."""
        report = self.report
        events = [json.loads(line) for line in (self.work / "events.jsonl").read_text().splitlines()
                  if line.strip().startswith("{") and line.rstrip().endswith("}")]
        recorded = {e["key"] for e in events if e.get("event") == "upload"} | {
            f"clips/{device_id}/{e['clip'][0:4]}/{e['clip'][4:6]}/{e['clip'][6:8]}/{e['clip']}.mp4"
            for e in events if e.get("event") == "clip_recorded"}
        uploaded = {e["key"] for e in events if e.get("event") == "upload"}
        s3 = target.client("s3")
        in_s3 = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=outputs.bucket, Prefix=f"clips/{device_id}/") for o in page.get("Contents", [])}
        report.recorded, report.uploaded, report.in_s3 = len(recorded), len(uploaded), len(in_s3)
        if missing := recorded - in_s3:
            report.problems.append(f"{len(missing)} recorded clip(s) not in S3, e.g. {sorted(missing)[0]}")
        if extra := in_s3 - recorded:
            report.problems.append(f"{len(extra)} clip(s) in S3 that were never recorded, e.g. {sorted(extra)[0]}")
        left = [p.name for p in (self.work / "spool").iterdir() if p.is_dir() and not p.name.startswith(".")]
        if left:
            report.problems.append(f"{len(left)} clip(s) still in the spool")
        unanswered = [k for k in in_s3 if s3.head_object(Bucket=outputs.bucket, Key=k)["Metadata"].get(
            "recognition") in (None, "", "pending")]
        if unanswered:  # each object carries its clip's one recognition outcome
            report.problems.append(f"{len(unanswered)} clip(s) in S3 without a recognition outcome")
        self._check_sightings(outputs, target, device_id, events, report)
        return report

    @staticmethod
    def _check_sightings(outputs: StackOutputs, target: Target, device_id: str, events: list[dict],
                         report: ChaosReport) -> None:
        faces: dict[str, int] = {}
        for event in events:  # the last answer of each clip (a clip resumed after a kill may be answered twice)
            if event.get("event") == "recognition" and event.get("status") in ("recognised", "unknown"):
                faces[event["key"]] = len(event.get("faces") or [])
        table = target.resource("dynamodb").Table(outputs.sightings_table)
        items: list[dict] = []
        kwargs: dict[str, Any] = {"FilterExpression": Attr("device").eq(device_id) & Attr("clip_key").exists()}
        while True:
            page = table.scan(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        per_clip = Counter(i["clip_key"] for i in items)
        if duplicated := [k for k, n in per_clip.items() if n > faces.get(k, 0)]:
            report.problems.append(f"{len(duplicated)} clip(s) with more sightings than faces, e.g. {duplicated[0]}")
        report.sightings_missing = sum(max(0, n - per_clip.get(k, 0)) for k, n in faces.items())
