"""Start and probe the compose emulator from Python (tests and benchmarks use it)."""
from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_ENDPOINT = "http://localhost:4566"
REPO_ROOT = Path(__file__).resolve().parent.parent


def emulator_healthy(endpoint: str = DEFAULT_ENDPOINT) -> bool:
    """True when MiniStack's health endpoint answers."""
    try:
        with urllib.request.urlopen(f"{endpoint}/_ministack/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def docker_usable() -> bool:
    """True when the docker engine answers."""
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def ensure_emulator(endpoint: str = DEFAULT_ENDPOINT, timeout_s: float = 120.0) -> bool:
    """Start compose's `emulator` service unless it already answers; True when this call started it."""
    if emulator_healthy(endpoint):
        return False
    subprocess.run(["docker", "compose", "up", "-d", "--wait", "emulator"], cwd=REPO_ROOT,
                   capture_output=True, text=True, check=True, timeout=600)
    deadline = time.monotonic() + timeout_s
    while not emulator_healthy(endpoint):
        if time.monotonic() > deadline:
            raise TimeoutError(f"emulator at {endpoint} did not become healthy")
        time.sleep(1)
    return True


def stop_stack() -> None:
    """scripts/down: compose services, the Lambda containers on the project network, the network."""
    subprocess.run([str(REPO_ROOT / "scripts" / "down")], cwd=REPO_ROOT, capture_output=True, timeout=300)
