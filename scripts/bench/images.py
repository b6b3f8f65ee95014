"""The recognizer images side by side, in one run, through the emulator's API Gateway:

- lean   the Lambda image (target `lambda`): ONNX Runtime, numpy and Pillow only, on a `FROM scratch` root;
- dlib   the previous serving image (target `lambda-dlib`): ONNX MTCNN + dlib's own ResNet, whole base image;
- torch  the torch reference (target `lambda-torch`): MTCNN on torch, embeddings as the dlib backend.

For each: image size (`docker images`), cold start (first request on a fresh container, --cold samples, median
and samples, with the container's own init split out of its log), warm p50/p95 at 250x250 and 640x480 with one
face and with two, and the in-process stage times the answers carry (`timings_ms`); ratios to the dlib image.
Then ONNX Runtime intra-op threads 1 vs 2 in the lean image, whole frame, run by `docker run` alone at
--cpus 1.2 (what a 2048 MB Lambda gets) and unrestricted.

    flock /tmp/facegate-heavy.lock .venv/bin/python scripts/bench/images.py [--cold 5] [--warm 30] [--rebuild] [--smoke]

Missing images are built from this checkout (`--rebuild` rebuilds all three; offline machines use the base
and wheelhouses scripts/prepare-images made; the dlib wheelhouse is made here). Each image is deployed as its
own throwaway stack (prefix fgbench-<variant>) with the demo person enrolled, then destroyed. The emulator is
started if it is not running (and stopped again). Writes bench-results/images.{json,png,md}; tables on stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from facegate_rigs.bench_common import (
    SMOKE_HELP,
    bench_frames,
    grouped_bars,
    machine,
    result_path,
    save,
    summary,
)
from facegate_rigs.lambda_container import lambda_container, recognize_event
from facegate_rigs.paths import RESULTS, ROOT
from facegate_rigs.stack import bench_stack

VARIANTS = {
    "lean": {"target": "lambda", "repository": "facegate/recognizer", "what": "ONNX Runtime + numpy + Pillow"},
    "dlib": {"target": "lambda-dlib", "repository": "facegate/recognizer-dlib", "what": "ONNX MTCNN + dlib ResNet (previous)"},
    "torch": {"target": "lambda-torch", "repository": "facegate/recognizer-torch", "what": "torch MTCNN + ONNX ResNet"},
}
BASELINE = "dlib"
COLD_FRAME = "640x480 1 face"
STAGES = ("decode", "detect", "embed", "classify", "lookup", "sightings", "total")


def log(message: str) -> None:
    print(f"[bench-images] {message}", file=sys.stderr, flush=True)


# ---- images ------------------------------------------------------------------------------------------------------
LOCAL_BASE = "facegate/base:bookworm"  # scripts/images/build-base.sh


def _offline_base() -> str | None:
    """The local base image of offline machines: what scripts/prepare-images wrote into .env, else the
    debootstrap base when it is present and the upstream one is not; None: build on the Dockerfile's default."""
    env = ROOT / ".env"
    if env.exists():
        match = re.search(r"^FACEGATE_LAMBDA_BASE_IMAGE=(\S+)", env.read_text(), re.M)
        if match:
            return match.group(1)
    import docker

    images = docker.from_env().images
    try:
        images.get("python:3.11-slim-bookworm")
        return None
    except docker.errors.ImageNotFound:
        pass
    try:
        images.get(LOCAL_BASE)
        return LOCAL_BASE
    except docker.errors.ImageNotFound:
        return None


def build_image(variant: str, ref: str) -> None:
    """docker build the variant's target from this checkout (classic builder, as scripts/prepare-images)."""
    spec = VARIANTS[variant]
    base = _offline_base()
    # The emulator's flavour of each image, as the local stack builds it (recognizer/emulator/eager_runtime.py).
    args = ["docker", "build", "-q", "-f", "recognizer/Dockerfile", "--target", spec["target"], "-t", ref,
            "--build-arg", "IMAGE_FOR=emulator"]
    if base:
        args += ["--build-arg", f"BASE_IMAGE={base}", "--build-arg", "FACENET_WEIGHTS_URL="]
        if variant == "dlib":
            subprocess.run([str(ROOT / "scripts" / "images" / "wheelhouse.sh"), "dlib", "--no-deps", "-r",
                            "recognizer/requirements-dlib.txt"], cwd=ROOT, check=True, stdout=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    logfile = RESULTS / f"build-{variant}.log"
    log(f"building {ref} (target {spec['target']}; log in {logfile.relative_to(ROOT)})")
    start = time.perf_counter()
    with logfile.open("w") as out:
        run = subprocess.run([*args, "."], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False,
                             env={**os.environ, "DOCKER_BUILDKIT": "0"})
    if run.returncode != 0:
        raise SystemExit(f"building {ref} failed: see {logfile}")
    log(f"built {ref} in {time.perf_counter() - start:.0f} s")


def image_size_mb(ref: str) -> float:
    """The size `docker images` shows (decimal MB)."""
    import docker

    return round(docker.from_env().images.get(ref).attrs["Size"] / 1e6, 1)


def ensure_images(variants: list[str], tag: str, rebuild: bool) -> dict[str, str]:
    import docker

    client = docker.from_env()
    refs = {}
    for variant in variants:
        ref = f"{VARIANTS[variant]['repository']}:{tag}"
        try:
            client.images.get(ref)
            present = True
        except docker.errors.ImageNotFound:
            present = False
        if rebuild or not present:
            build_image(variant, ref)
        refs[variant] = ref
    return refs


# ---- requests ----------------------------------------------------------------------------------------------------
class Poster:
    """POSTs frames to the stack's /recognize (one pooled HTTP session); the answer's JSON or an error."""

    def __init__(self, url: str, api_key: str) -> None:
        import requests

        self.url = url
        self.session = requests.Session()
        self.session.headers.update({"x-api-key": api_key, "Content-Type": "image/jpeg"})

    def __call__(self, body: bytes) -> tuple[float, dict]:
        start = time.perf_counter()
        response = self.session.post(self.url, data=body, timeout=120)
        elapsed = (time.perf_counter() - start) * 1e3
        if response.status_code != 200:
            raise RuntimeError(f"request answered {response.status_code}: {response.text[:300]}")
        return elapsed, response.json()


def _median_stages(answers: list[dict]) -> dict[str, float]:
    return {stage: round(statistics.median(a["timings_ms"].get(stage, 0.0) for a in answers), 1) for stage in STAGES}


def warm(post: Poster, frames: dict[str, tuple[bytes, int]], n: int) -> dict:
    """Per frame: round trips (p50/p95...), faces found, median in-process stage times."""
    result = {}
    for name, (body, faces) in frames.items():
        _, first = post(body)
        found = len(first["faces"])
        if found != faces:
            raise RuntimeError(f"{name}: the recognizer found {found} faces, the frame has {faces}")
        samples, answers = [], []
        for _ in range(n):
            elapsed, answer = post(body)
            samples.append(elapsed)
            answers.append(answer)
        result[name] = {**summary(samples), "faces": found, "stages_ms": _median_stages(answers)}
    return result


def _lambda_container(function: str):
    """The newest container the emulator started for `function` (None when it cannot be found)."""
    import docker

    try:
        containers = docker.from_env().containers.list(all=True, filters={"label": "ministack=lambda"})
    except Exception:  # noqa: BLE001 - the breakdown is optional
        return None
    mine = [c for c in containers if f"AWS_LAMBDA_FUNCTION_NAME={function}" in (c.attrs["Config"].get("Env") or [])]
    return max(mine, key=lambda c: c.attrs["Created"], default=None)


def _init_split(function: str) -> dict[str, float]:
    """From the fresh container's log: the runtime's init (RIE INIT REPORT: interpreter, awslambdaric, handler
    import) and the handler's own init (its "recognizer ready" line)."""
    container = _lambda_container(function)
    if container is None:
        return {}
    text = container.logs().decode("utf-8", "replace")
    split = {}
    match = re.search(r"INIT REPORT\(durationMs: ([\d.]+)\)", text)
    if match:
        split["runtime_init_ms"] = round(float(match.group(1)), 1)
    for line in text.splitlines():
        if '"recognizer ready"' in line:
            ready = json.loads(line[line.index("{"):])
            split["handler_init_ms"] = ready.get("init_ms")
            split["warmup_ms"] = ready.get("warmup_ms")
            split["process_age_ms"] = ready.get("process_age_ms")
            split.update(ready.get("init_steps_ms") or {})
    return split


def set_environment(lam, function: str, changes: dict[str, str | None]) -> None:
    """Change the function's environment (None removes a variable); the emulator then retires warm containers."""
    config = lam.get_function_configuration(FunctionName=function)
    env = dict((config.get("Environment") or {}).get("Variables", {}))
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    lam.update_function_configuration(FunctionName=function, Environment={"Variables": env})
    lam.get_waiter("function_updated_v2").wait(FunctionName=function)
    time.sleep(1.0)  # let the emulator finish retiring the old container


def cold_starts(lam, function: str, post: Poster, body: bytes, samples: int, extra_env: dict | None = None) -> dict:
    """First request on fresh containers: changing the configuration retires the warm ones."""
    times, splits = [], []
    for i in range(samples):
        set_environment(lam, function, {**(extra_env or {}), "FACEGATE_BENCH_NONCE": f"{time.time()}-{i}"})
        elapsed, answer = post(body)
        times.append(elapsed)
        splits.append({**_init_split(function), "request_total_ms": answer["timings_ms"].get("total")})
    medians = {key: round(statistics.median(s[key] for s in splits if s.get(key) is not None), 1)
               for key in splits[0] if all(s.get(key) is not None for s in splits)}
    return {**summary(times), "samples": [round(x) for x in times], "split_median_ms": medians, "split_samples": splits}


def measure(variant: str, image: str, args, frames: dict[str, tuple[bytes, int]]) -> dict:
    """One image as its own throwaway stack with the demo person enrolled (the cold start then loads a real model
    from S3): cold starts, with the init inside the first invoke when asked, then warm requests per frame."""
    prefix = f"fgbench-{variant}"
    log(f"{variant}: deploying {image} as {prefix}")
    with bench_stack(args.endpoint_url, prefix, image=image, seed=False) as bench:
        bench.enrol_fixture_people()
        post = Poster(bench.outputs.recognize_url, bench.outputs.api_key)
        lam = bench.target.client("lambda")
        function = bench.outputs.function_name
        log(f"{variant}: {args.cold} cold starts")
        cold = cold_starts(lam, function, post, frames[COLD_FRAME][0], args.cold)
        log(f"{variant}: cold p50 {cold['p50']} ms {cold['samples']}")
        lazy = None
        if args.lazy_cold:
            # The RIE's own way: the runtime starts at the first invoke, so all init lands inside request 1.
            lazy = cold_starts(lam, function, post, frames[COLD_FRAME][0], args.lazy_cold, {"FACEGATE_EAGER_INIT": "0"})
            log(f"{variant}: cold p50 with the init inside the first invoke {lazy['p50']} ms {lazy['samples']}")
            set_environment(lam, function, {"FACEGATE_EAGER_INIT": None})
        log(f"{variant}: warm, {args.warm} requests per frame")
        warm_ms = warm(post, frames, args.warm)
    return {"image": image, "target": VARIANTS[variant]["target"], "what": VARIANTS[variant]["what"],
            "size_mb": image_size_mb(image), "cold_start_ms": cold, "cold_start_init_in_invoke_ms": lazy,
            "warm_ms": warm_ms}


# ---- threads: the lean image alone under docker run, as Lambda's CPU share --------------------------------------------
def threads_in_image(image: str, frames: dict[str, tuple[bytes, int]], n: int, cpus_options: list[str],
                     threads_options: list[int]) -> dict:
    """Whole-frame handler time (the answer's timings_ms.total) for each ONNX Runtime thread count, invoking the
    image's RIE directly (no emulator): --cpus 1.2 is a 2048 MB Lambda's share of a CPU."""
    result: dict = {}
    for cpus in cpus_options:
        for threads in threads_options:
            with lambda_container(image, cpus=float(cpus) if cpus != "all" else None, memory_mb=2048,
                                  environment={"FACEGATE_THREADS": str(threads)},
                                  ready_frame=next(iter(frames.values()))[0]) as function:
                row = {}
                for name, (body, _faces) in frames.items():
                    event = recognize_event(body)
                    function.invoke(event)
                    answers = [function.invoke(event) for _ in range(n)]
                    row[name] = {**summary([a["timings_ms"]["total"] for a in answers]),
                                 "stages_ms": _median_stages(answers)}
            result.setdefault(f"cpus={cpus}", {})[f"threads={threads}"] = row
            log(f"threads: cpus={cpus} threads={threads}: " + ", ".join(f"{k} {v['p50']}" for k, v in row.items()))
    return result


# ---- report ------------------------------------------------------------------------------------------------------
def ratios(result: dict) -> dict:
    base = result["variants"].get(BASELINE)
    if base is None:
        return {}
    out = {}
    for name, v in result["variants"].items():
        if name == BASELINE:
            continue
        out[f"{name}/{BASELINE}"] = {
            "size": round(v["size_mb"] / base["size_mb"], 2),
            "cold_start_p50": round(v["cold_start_ms"]["p50"] / base["cold_start_ms"]["p50"], 2),
            **{f"warm_p50 {f}": round(v["warm_ms"][f]["p50"] / base["warm_ms"][f]["p50"], 2) for f in v["warm_ms"]},
        }
    return out


def plot(result: dict, path: Path) -> None:
    try:
        import matplotlib
    except ImportError:  # the dev extra brings it (scripts/dev-env)
        log("matplotlib is not installed: no plot (pip install -e '.[dev]')")
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(result["variants"])
    colours = {"lean": "tab:green", "dlib": "tab:blue", "torch": "tab:gray"}
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), gridspec_kw={"width_ratios": [1, 1, 2.4]})
    axes[0].bar(variants, [result["variants"][v]["size_mb"] for v in variants], color=[colours.get(v) for v in variants])
    axes[0].axhline(200, ls="--", c="k", lw=0.8)
    axes[0].set_title("image size (MB)")
    axes[1].bar(variants, [result["variants"][v]["cold_start_ms"]["p50"] for v in variants],
                color=[colours.get(v) for v in variants])
    axes[1].axhline(1000, ls="--", c="k", lw=0.8)
    axes[1].set_title("cold start via API GW, median (ms)")
    frames = list(result["variants"][variants[0]]["warm_ms"])
    grouped_bars(axes[2], frames, {v: [result["variants"][v]["warm_ms"][f]["p50"] for f in frames] for v in variants},
                 "warm p50 via API GW (ms)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown(result: dict, command: str) -> str:
    """The "Serving speed" table of docs/benchmarks.md."""
    variants = result["variants"]
    frames = list(next(iter(variants.values()))["warm_ms"])
    lines = ["| | " + " | ".join(f"`{v['target']}` ({name})" for name, v in variants.items()) + " |",
             "|---|" + "---|" * len(variants),
             "| what | " + " | ".join(v["what"] for v in variants.values()) + " |",
             "| image size (MB) | " + " | ".join(str(v["size_mb"]) for v in variants.values()) + " |",
             "| cold start, median (ms) | " + " | ".join(
                 f"**{v['cold_start_ms']['p50']:.0f}** ({', '.join(str(s) for s in v['cold_start_ms']['samples'])})"
                 for v in variants.values()) + " |"]
    if all(v.get("cold_start_init_in_invoke_ms") for v in variants.values()):
        lines.append("| cold start with the init inside the first invoke (RIE's way), median (ms) | " + " | ".join(
            f"{v['cold_start_init_in_invoke_ms']['p50']:.0f} ("
            + ", ".join(str(x) for x in v["cold_start_init_in_invoke_ms"]["samples"]) + ")"
            for v in variants.values()) + " |")
    for f in frames:
        lines.append(f"| warm {f}, p50 / p95 (ms) | " + " | ".join(
            f"**{v['warm_ms'][f]['p50']:.0f}** / {v['warm_ms'][f]['p95']:.0f}" for v in variants.values()) + " |")
    for f in frames:
        lines.append(f"| in the Lambda, {f}: detect + embed (ms) | " + " | ".join(
            f"{v['warm_ms'][f]['stages_ms']['detect']:.0f} + {v['warm_ms'][f]['stages_ms']['embed']:.0f}"
            for v in variants.values()) + " |")
    text = "\n".join(lines) + "\n"
    if result.get("ratios"):
        text += "\nRatios to the previous (dlib) image: " + "; ".join(
            f"{k}: size {r['size']}x, cold start {r['cold_start_p50']}x, warm p50 "
            + ", ".join(f"{kk.removeprefix('warm_p50 ')} {vv}x" for kk, vv in r.items() if kk.startswith("warm_p50"))
            for k, r in result["ratios"].items()) + "\n"
    if result.get("threads"):
        text += "\nONNX Runtime intra-op threads, lean image alone (`docker run`, handler total p50 in ms): " + "; ".join(
            f"{cpus}, {th}: " + ", ".join(f"{f} {row[f]['p50']:.0f}" for f in row)
            for cpus, by_threads in result["threads"].items() for th, row in by_threads.items()) + "\n"
    m = result["machine"]
    text += f"\n{m['cpus']} cores, {m['when']}; produced by `{command}`.\n"
    return text


def print_tables(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    variants = result["variants"]
    frames = list(next(iter(variants.values()))["warm_ms"])
    table = Table(title="recognizer images through the emulator's API Gateway (ms)")
    table.add_column("")
    for name in variants:
        table.add_column(name, justify="right")
    table.add_row("size MB", *[str(v["size_mb"]) for v in variants.values()])
    table.add_row("cold p50", *[f"{v['cold_start_ms']['p50']:.0f}" for v in variants.values()])
    table.add_row("cold samples", *[" ".join(map(str, v["cold_start_ms"]["samples"])) for v in variants.values()])
    table.add_row("cold: process age at ready", *[str(v["cold_start_ms"]["split_median_ms"].get("process_age_ms", "-"))
                                                  for v in variants.values()])
    table.add_row("cold, init in 1st invoke p50", *[f"{v['cold_start_init_in_invoke_ms']['p50']:.0f}"
                                                   if v.get("cold_start_init_in_invoke_ms") else "-"
                                                   for v in variants.values()])
    for f in frames:
        table.add_row(f"warm {f} p50/p95", *[f"{v['warm_ms'][f]['p50']:.0f} / {v['warm_ms'][f]['p95']:.0f}"
                                              for v in variants.values()])
    console.print(table)
    stages = Table(title="in-process stage medians from timings_ms (ms)")
    stages.add_column("frame")
    stages.add_column("image")
    for stage in STAGES:
        stages.add_column(stage, justify="right")
    for f in frames:
        for name, v in variants.items():
            stages.add_row(f, name, *[f"{v['warm_ms'][f]['stages_ms'][s]:.1f}" for s in STAGES])
    console.print(stages)
    if result.get("ratios"):
        console.print(f"ratios to the {BASELINE} image: {json.dumps(result['ratios'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", type=int, default=5, help="cold start samples per image (at least 5 for the README)")
    parser.add_argument("--lazy-cold", type=int, default=5,
                        help="cold starts with FACEGATE_EAGER_INIT=0 (the RIE starts the runtime at the first invoke)")
    parser.add_argument("--warm", type=int, default=30, help="timed requests per frame")
    parser.add_argument("--variants", default="lean,dlib,torch")
    parser.add_argument("--tag", default="latest", help="image tag to use (and to build when missing)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild every image from this checkout first")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2], help="thread counts to compare (none: skip)")
    parser.add_argument("--threads-cpus", nargs="*", default=["1.2", "all"])
    parser.add_argument("--endpoint-url", default="http://localhost:4566")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + "; the lean image only, no threads table")
    args = parser.parse_args()
    if args.smoke:
        args.cold, args.lazy_cold, args.warm, args.variants, args.threads = 1, 0, 1, "lean", []
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)} (known: {', '.join(VARIANTS)})")

    from services import local_stack

    refs = ensure_images(variants, args.tag, args.rebuild)
    frames = bench_frames()
    # Anything else running spoils the numbers: the load average before and after says whether it was quiet.
    result: dict = {"machine": {**machine(), "load_average_before": [round(x, 2) for x in os.getloadavg()]}, "frames": {k: {"bytes": len(b), "faces": n} for k, (b, n) in frames.items()},
                    "cold_frame": COLD_FRAME, "variants": {}}
    started = local_stack.ensure_emulator(args.endpoint_url)  # once for all the images' stacks
    try:
        for variant in variants:
            result["variants"][variant] = measure(variant, refs[variant], args, frames)
    finally:
        if started:
            local_stack.stop_stack()
    result["ratios"] = ratios(result)
    result["machine"]["load_average_after_emulator_runs"] = [round(x, 2) for x in os.getloadavg()]
    if args.threads and "lean" in refs:
        result["threads"] = threads_in_image(refs["lean"], frames, args.warm, args.threads_cpus, args.threads)
    command = "flock /tmp/facegate-heavy.lock .venv/bin/python scripts/bench/images.py " + " ".join(sys.argv[1:])
    save("images", result, args.smoke)
    plot(result, result_path("images.png", args.smoke))
    result_path("images.md", args.smoke).write_text(markdown(result, command.strip()))
    print_tables(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
