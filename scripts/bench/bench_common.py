"""Shared pieces of the benchmarks: frames, statistics, result files."""
from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results"
FIXTURES = ROOT / "fixtures" / "images"
# ../shared/datasets/lfw-dev beside the checkout (CI has it there); FACEGATE_LFW_DEV names another place.
LFW_DEV = Path(os.environ.get("FACEGATE_LFW_DEV") or ROOT.parent / "shared" / "datasets" / "lfw-dev")


def summary(samples_ms: list[float]) -> dict[str, float]:
    """n, p50, p95, mean and max of a list of milliseconds."""
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]  # noqa: E731
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 1), "p95": round(pick(0.95), 1),
            "mean": round(statistics.fmean(ordered), 1), "max": round(ordered[-1], 1)}


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    from PIL import Image
    import io

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def frames() -> dict[str, bytes]:
    """Two frame sizes the device sends: a 250x250 portrait (LFW when present) and a 640x480 scene."""
    from recognizer.image_decode import load_rgb

    portrait_path = FIXTURES / "probe_eileen_collins.jpg"
    if (LFW_DEV / "val").is_dir():
        portrait_path = sorted(sorted((LFW_DEV / "val").iterdir())[0].glob("*.jpg"))[0]
    portrait = load_rgb(portrait_path)
    if portrait.shape[:2] != (250, 250):
        from PIL import Image

        portrait = np.asarray(Image.fromarray(portrait).resize((250, 250)))
    probe = load_rgb(FIXTURES / "probe_eileen_collins.jpg")
    scene = np.full((480, 640, 3), 90, dtype=np.uint8)
    scene[60:60 + probe.shape[0], 160:160 + probe.shape[1]] = probe
    return {"250x250": jpeg(portrait), "640x480": jpeg(scene)}


# One-face portraits for the side-by-side frames (LFW-dev validation photos with exactly one face MTCNN finds).
LFW_PORTRAITS = ("Alvaro_Uribe/Alvaro_Uribe_0026.jpg", "Andre_Agassi/Andre_Agassi_0025.jpg")


def _portraits() -> list[np.ndarray]:
    """Two 250x250 single-face portraits: LFW-dev when present, else the fixtures' demo person."""
    from PIL import Image

    from recognizer.image_decode import load_rgb

    paths = [LFW_DEV / "val" / name for name in LFW_PORTRAITS]
    if not all(p.exists() for p in paths):
        paths = [FIXTURES / "probe_eileen_collins.jpg", FIXTURES / "Eileen_Collins" / "enrol_1.jpg"]
    out = []
    for path in paths:
        rgb = load_rgb(path)
        if rgb.shape[:2] != (250, 250):  # centre square, then 250x250
            h, w = rgb.shape[:2]
            side = min(h, w)
            rgb = rgb[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
            rgb = np.asarray(Image.fromarray(rgb).resize((250, 250), Image.BILINEAR))
        out.append(rgb)
    return out


def bench_frames() -> dict[str, tuple[bytes, int]]:
    """Frames the device sends, as (JPEG, faces in it): 250x250 and 640x480, with one face and with two.

    Two faces at 250x250 are the central 125 columns of two portraits side by side; at 640x480 two portraits
    stand on a plain background."""
    a, b = _portraits()
    scene = lambda: np.full((480, 640, 3), 90, dtype=np.uint8)  # noqa: E731
    one = scene()
    one[115:365, 195:445] = a
    two = scene()
    two[115:365, 50:300] = a
    two[115:365, 340:590] = b
    return {"250x250 1 face": (jpeg(a), 1),
            "250x250 2 faces": (jpeg(np.concatenate([a[:, 62:187], b[:, 62:187]], axis=1)), 2),
            "640x480 1 face": (jpeg(one), 1),
            "640x480 2 faces": (jpeg(two), 2)}


def machine() -> dict[str, object]:
    import os

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def save(name: str, result: dict) -> Path:
    """Write bench-results/<name>.json and return its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def cold_starts(lam, function: str, post, body: bytes, samples: int) -> list[float]:
    """First-request latency on fresh containers: changing the configuration retires warm ones."""
    times = []
    for i in range(samples):
        config = lam.get_function_configuration(FunctionName=function)
        env = dict((config.get("Environment") or {}).get("Variables", {}))
        env["FACEGATE_BENCH_NONCE"] = f"{time.time()}-{i}"
        lam.update_function_configuration(FunctionName=function, Environment={"Variables": env})
        lam.get_waiter("function_updated_v2").wait(FunctionName=function)
        times.append(timed_request(post, body))
    return times


def timed_request(post, body: bytes) -> float:
    """Milliseconds one request takes; anything but 200 stops the benchmark."""
    start = time.perf_counter()
    status = post(body)
    elapsed = (time.perf_counter() - start) * 1e3
    if status != 200:
        raise RuntimeError(f"request answered {status}")
    return elapsed


def warm_latencies(post, body: bytes, n: int) -> list[float]:
    """Round trips of `n` requests after one warm-up request."""
    post(body)
    return [timed_request(post, body) for _ in range(n)]


def poster(url: str, api_key: str):
    """A POST function returning the status code (one pooled HTTP session)."""
    import requests

    session = requests.Session()
    session.headers.update({"x-api-key": api_key, "Content-Type": "image/jpeg"})
    return lambda body: session.post(url, data=body, timeout=120).status_code


def grouped_bars(ax, groups: list[str], series: dict[str, list[float]], title: str) -> None:
    """One bar per series within each group (e.g. frame sizes), side by side, with a legend."""
    width = 0.8 / max(1, len(series))
    for i, (label, values) in enumerate(series.items()):
        ax.bar([x + i * width for x in range(len(groups))], values, width, label=label)
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(groups))], groups)
    ax.set_title(title)
    ax.legend(fontsize=8)


@dataclass(frozen=True)
class BenchStack:
    """A throwaway stack deployed for one benchmark: its target, prefix, outputs and a work folder."""

    target: Any
    prefix: str
    outputs: Any
    work: Path

    @property
    def outputs_path(self) -> Path:
        return self.work / "outputs.json"

    def device(self, name: str) -> Path:
        """Provision a device (its own API key) and return its device file."""
        from services.device_commands import provision

        path = self.work / f"{name}.json"
        provision(self.target, self.prefix, name).write(path)
        return path

    def enrol_fixture_people(self) -> None:
        """Enrol the demo person from fixtures/images/ with the recognizer's own networks."""
        from recognizer.pipeline import FacePipeline
        from recognizer.face_library.enrolment import enrol_listed_people
        from recognizer.face_library.model_cache import ensure_onnx_models
        from recognizer.face_library.stack_access import StackAccess

        ensure_onnx_models()
        enrol_listed_people(FacePipeline.load("dlib"), StackAccess.open(self.outputs_path), FIXTURES)


@contextmanager
def bench_stack(endpoint_url: str, prefix: str) -> Iterator[BenchStack]:
    """Deploy a stack under `prefix` into the emulator (started when it was not running); afterwards destroy it,
    and stop the emulator again when this started it."""
    from services import local_stack, stack
    from services.target import Target

    started = local_stack.ensure_emulator(endpoint_url)
    target = Target(endpoint_url=endpoint_url)
    work = Path(tempfile.mkdtemp(prefix=f"facegate-{prefix}-"))
    try:
        outputs = stack.deploy(target, stack.DeployOptions(prefix=prefix)).outputs
        outputs.write(work / "outputs.json")
        yield BenchStack(target, prefix, outputs, work)
    finally:
        stack.destroy(target, prefix)
        if started:
            local_stack.stop_stack()
