"""Every bench in scripts/bench starts and prints its figures: each one's `--smoke` run (a few seconds, tiny inputs,
the real code path) as a subprocess, exactly as the docs show it (`python scripts/bench/<bench>.py`). The benches
that need no emulator run here; those that deploy a stack run in tests/integration/test_bench_smoke.py."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

BENCH_DIR = ROOT / "scripts" / "bench"


@dataclass(frozen=True)
class Bench:
    """What a bench needs and what its smoke run must print (keys of its JSON figures)."""

    figures: tuple[str, ...]
    emulator: bool = False  # deploys a throwaway stack: tests/integration/test_bench_smoke.py
    lfw_dev: bool = False  # reads ../shared/datasets/lfw-dev (and lfw-strangers)
    engine: bool = False  # runs the built images under the docker engine, no stack: tests/integration too


BENCHES = {
    "door.py": Bench(("door_fpir_visit", "naming_accuracy"), lfw_dev=True),
    "door_embeddings.py": Bench(("stranger_views", "missed"), lfw_dev=True),
    "visits.py": Bench(("totals", "identity_switches"), lfw_dev=True),
    "recognizer_speed.py": Bench(("warm", "cold_start", "baseline_over_warm_p50")),
    "memory.py": Bench(("sizes", "peak_memory_mb", "usd_per_million_1_face", "cheapest_mb"), engine=True),
    "e2e.py": Bench(("cold_start_ms", "overhead", "clips_per_s"), emulator=True),
    "images.py": Bench(("size_mb", "cold_start_ms", "warm_ms"), emulator=True),
    "cost.py": Bench(("per_device_day", "rekognition_usd_same_frames"), emulator=True),
    "load.py": Bench(("latency_ms", "clips_per_s", "uploaded"), emulator=True),
    "chaos.py": Bench(("clips_in_s3", "problems", "drained"), emulator=True),
}


def run_smoke(name: str, *extra: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """`python scripts/bench/<name> --smoke [extra...]` from the checkout; asserts exit 0 and that every figure was
    printed."""
    ran = subprocess.run([sys.executable, str(BENCH_DIR / name), "--smoke", *extra], cwd=ROOT, capture_output=True,
                         text=True, timeout=timeout, check=False)
    assert ran.returncode == 0, f"{name} --smoke exited {ran.returncode}:\n{ran.stderr[-4000:]}"
    missing = [key for key in BENCHES[name].figures if f'"{key}"' not in ran.stdout]
    assert not missing, f"{name} --smoke printed no {missing}:\n{ran.stdout[-2000:]}"
    return ran


def test_every_bench_has_a_smoke_run() -> None:
    """A new bench in scripts/bench is listed here (and so run by CI), and takes --smoke."""
    assert {p.name for p in BENCH_DIR.glob("*.py")} == set(BENCHES)
    lacking = [name for name in BENCHES if "--smoke" not in (BENCH_DIR / name).read_text()]
    assert lacking == []


@pytest.mark.parametrize("name", [n for n, b in BENCHES.items() if not (b.emulator or b.engine or b.lfw_dev)])
def test_bench_smoke(name: str) -> None:
    run_smoke(name)


@pytest.mark.parametrize("name", [n for n, b in BENCHES.items() if b.lfw_dev and not (b.emulator or b.engine)])
def test_bench_smoke_on_lfw(name: str, lfw_dev: Path) -> None:
    run_smoke(name)
