#!/usr/bin/env python3
"""Start a recognizer image alone (`docker run`, its own Runtime Interface Emulator) and time its answers to a frame.

    scripts/images/invoke-image.py IMAGE [--frame fixtures/images/probe_eileen_collins.jpg] [--warm 5]
                                   [--docker-arg=-v --docker-arg=/tmp/cpuinfo:/proc/cpuinfo:ro]

Prints one JSON object: cold_ms (container start to the first answer: what a fresh Lambda execution environment
costs, init included, since the entry script starts the runtime with the container), warm_ms (the next answers,
median and samples), the handler's own init from its "recognizer ready" log line, and the faces it found.
As scripts/bench/images.py does for its threads table: an API-Gateway-shaped event posted to the RIE's
/2015-03-31/functions/function/invocations; no DynamoDB or S3 (no tables or bucket in the environment), so the
answer is the networks' work with an empty gallery. Standard library only, so it runs with any python3.
"""
from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INVOKE_PATH = "/2015-03-31/functions/function/invocations"


def event(jpeg: bytes) -> bytes:
    """The API Gateway (REST, proxy) event the deployed function receives for a POST /recognize."""
    return json.dumps({"httpMethod": "POST", "resource": "/recognize", "path": "/recognize",
                       "headers": {"Content-Type": "image/jpeg"}, "body": base64.b64encode(jpeg).decode(),
                       "isBase64Encoded": True}).encode()


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


def _post(url: str, body: bytes, timeout: float) -> dict[str, Any]:
    """The handler's answer (the API Gateway response's JSON body); raises if it is not a 200."""
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=timeout) as response:
        outer = json.loads(response.read())
    if outer.get("statusCode") != 200:
        raise RuntimeError(f"the handler answered {outer.get('statusCode')}: {str(outer.get('body'))[:300]}")
    return json.loads(outer["body"])


def measure(image: str, frame: Path, warm: int = 5, startup_timeout: float = 600,
            docker_args: list[str] | None = None) -> dict[str, Any]:
    """Cold answer (from `docker run`), `warm` warm answers, the handler's init; the container is removed after.
    `docker_args` go to `docker run` before the image (e.g. a volume)."""
    name = f"facegate-invoke-{uuid.uuid4().hex[:8]}"
    body = event(frame.read_bytes())
    start = time.perf_counter()
    _docker("run", "-d", "--name", name, "-p", "127.0.0.1::8080", "-e", "AWS_DEFAULT_REGION=us-east-1",
            *(docker_args or []), image)
    try:
        port = _docker("port", name, "8080/tcp").splitlines()[0].rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}{INVOKE_PATH}"
        deadline = start + startup_timeout
        while True:  # the RIE's port opens at once; the first invoke then waits for the runtime's init
            try:
                first = _post(url, body, timeout=startup_timeout)
                break
            except urllib.error.HTTPError as exc:  # the RIE answered: the runtime failed (e.g. crashed in init)
                logs = subprocess.run(["docker", "logs", name], check=False, capture_output=True, text=True)
                raise RuntimeError(f"{image}: the RIE answered {exc.code}; container log:\n"
                                   f"{(logs.stdout + logs.stderr)[-3000:]}") from exc
            except (urllib.error.URLError, ConnectionError) as exc:  # the port is not open yet
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{image}: no answer within {startup_timeout:.0f} s ({exc})") from exc
                time.sleep(0.1)
        cold_ms = (time.perf_counter() - start) * 1e3
        samples = []
        for _ in range(warm):
            t0 = time.perf_counter()
            _post(url, body, timeout=120)
            samples.append((time.perf_counter() - t0) * 1e3)
        ready = {}
        logs = subprocess.run(["docker", "logs", name], check=False, capture_output=True, text=True).stdout
        for line in logs.splitlines():
            if '"recognizer ready"' in line:
                ready = json.loads(line[line.index("{"):])
    finally:
        subprocess.run(["docker", "rm", "-f", name], check=False, capture_output=True)
    return {"image": image, "architecture": _docker("image", "inspect", "-f", "{{.Architecture}}", image),
            "frame": str(frame), "faces": len(first.get("faces", [])), "cold_ms": round(cold_ms),
            "warm_ms": round(statistics.median(samples)) if samples else None,
            "warm_samples_ms": [round(s) for s in samples], "handler_init_ms": ready.get("init_ms"),
            "handler_timings_ms": first.get("timings_ms")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image")
    parser.add_argument("--frame", type=Path, default=ROOT / "fixtures" / "images" / "probe_eileen_collins.jpg")
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--startup-timeout", type=float, default=600)
    parser.add_argument("--docker-arg", action="append", default=[], help="passed to `docker run` (repeatable)")
    args = parser.parse_args()
    print(json.dumps(measure(args.image, args.frame, args.warm, args.startup_timeout, args.docker_arg)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
