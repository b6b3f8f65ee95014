"""The recognizer's Lambda image run alone by `docker run`, with a Lambda-like CPU share and memory limit, invoked
through the image's own runtime interface emulator (no emulator stack): what the image and memory benches time."""
from __future__ import annotations

import base64
import contextlib
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

INVOKE_PATH = "/2015-03-31/functions/function/invocations"


def recognize_event(body: bytes) -> bytes:
    """The HTTP API's proxy event (payload format 2.0) of POST /recognize carrying one JPEG frame."""
    return json.dumps({"version": "2.0", "routeKey": "ANY /recognize", "rawPath": "/live/recognize",
                       "requestContext": {"http": {"method": "POST", "path": "/live/recognize"}, "stage": "live"},
                       "headers": {"content-type": "image/jpeg"}, "body": base64.b64encode(body).decode(),
                       "isBase64Encoded": True}).encode()


@dataclass
class RunningFunction:
    """A started container: `invoke(event)` returns the answer's decoded body; `peak_memory_mb()` what the
    container used at most so far (None where the engine does not say)."""

    container: Any
    invoke: Callable[[bytes], dict]

    def peak_memory_mb(self) -> float | None:
        stats = self.container.stats(stream=False).get("memory_stats", {})
        peak = stats.get("max_usage")  # cgroup v1; cgroup v2 engines report no peak
        return round(peak / 2**20, 1) if peak else None


@contextlib.contextmanager
def lambda_container(image: str, *, cpus: float | None, memory_mb: int, environment: dict[str, str] | None = None,
                     ready_frame: bytes, ready_timeout_s: float = 30.0) -> Iterator[RunningFunction]:
    """Run `image` with `cpus` of CPU (None: unrestricted) and `memory_mb` of memory, wait until it answers
    `ready_frame`, yield it; stopped (and removed) afterwards."""
    import docker

    client = docker.from_env()
    kwargs = {"nano_cpus": int(cpus * 1e9)} if cpus is not None else {}
    container = client.containers.run(image, detach=True, remove=True, mem_limit=f"{memory_mb}m",
                                      environment={"AWS_DEFAULT_REGION": "us-east-1", **(environment or {})},
                                      ports={"8080/tcp": ("127.0.0.1", None)}, **kwargs)
    try:
        container.reload()
        url = f"http://127.0.0.1:{container.ports['8080/tcp'][0]['HostPort']}{INVOKE_PATH}"

        def invoke(event: bytes) -> dict:
            with urllib.request.urlopen(urllib.request.Request(url, data=event), timeout=60) as answer:
                return json.loads(json.loads(answer.read())["body"])

        deadline = time.monotonic() + ready_timeout_s
        while True:
            try:
                invoke(recognize_event(ready_frame))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield RunningFunction(container, invoke)
    finally:
        container.stop(timeout=2)
