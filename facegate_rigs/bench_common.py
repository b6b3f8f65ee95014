"""Shared pieces of the benchmarks: frames, statistics, result files."""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from facegate_rigs.paths import FIXTURES, LFW_DEV, RESULTS


def summary(samples_ms: list[float]) -> dict[str, float]:
    """n, p50, p95, mean and max of a list of milliseconds."""
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]  # noqa: E731
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 1), "p95": round(pick(0.95), 1),
            "mean": round(statistics.fmean(ordered), 1), "max": round(ordered[-1], 1)}


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    import io

    from PIL import Image

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
            rgb = np.asarray(Image.fromarray(rgb).resize((250, 250), Image.Resampling.BILINEAR))
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
    """Cores, Python, architecture, the load average at the start (other work on the machine spoils the numbers)
    and the time of the run, for the result files."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# Every bench takes --smoke: tiny inputs, one iteration, the real code path; CI runs it (tests/*/test_bench_smoke.py)
# so a bench that no longer starts fails there. Its results go to bench-results/smoke/, never over real figures.
SMOKE_HELP = "a few seconds: tiny inputs, one iteration, results under bench-results/smoke/ (CI runs this)"


def result_path(name: str, smoke: bool = False) -> Path:
    """bench-results/<name> (bench-results/smoke/<name> for a smoke run), its folder made."""
    folder = RESULTS / "smoke" if smoke else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def save(name: str, result: dict, smoke: bool = False) -> Path:
    """Write bench-results/<name>.json (under smoke/ for a smoke run) and return its path."""
    path = result_path(f"{name}.json", smoke)
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
