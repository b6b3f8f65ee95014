"""The recognizer Lambda image as built: at most 200 MB, the serving code only, and the eager runtime in the
emulator's flavour alone (build arg IMAGE_FOR; the default, `aws`, is what AWS runs).

The local stack's image (`facegate/recognizer:latest`, built by scripts/prepare-images or compose) is read as it is;
the flavours are compared on the `lambda-files` stage, which differs only there and rebuilds in seconds.
"""
from __future__ import annotations

import os
import re
import subprocess
import tarfile
from collections.abc import Iterator

import pytest

from services.local_stack import docker_usable
from tests.conftest import ROOT
from tests.unit.test_role_boundaries import SERVING, TOOLS

IMAGE = "facegate/recognizer:latest"
MAX_BYTES = 200_000_000
EAGER = "opt/facegate/eager_runtime.py"


@pytest.fixture(scope="module", autouse=True)
def docker() -> None:
    if not docker_usable():
        if os.environ.get("FACEGATE_REQUIRE_DOCKER") == "1":
            pytest.fail("docker engine not reachable; run scripts/ensure-docker")
        pytest.skip("docker engine not reachable")


def _files(ref: str) -> set[str]:
    """Every path in the image's file system (from `docker export` of a container never started)."""
    container = subprocess.run(["docker", "create", ref, "x"], capture_output=True, text=True, check=True).stdout.strip()
    try:
        export = subprocess.Popen(["docker", "export", container], stdout=subprocess.PIPE)
        assert export.stdout is not None
        with tarfile.open(fileobj=export.stdout, mode="r|") as tar:
            names = {member.name.rstrip("/") for member in tar}
        export.wait()
        return names
    finally:
        subprocess.run(["docker", "rm", container], capture_output=True, check=False)


def _local_base() -> list[str]:
    """The build args scripts/prepare-images wrote into .env (offline machines), so the stage reuses its layers."""
    env = ROOT / ".env"
    match = re.search(r"^FACEGATE_LAMBDA_BASE_IMAGE=(\S+)", env.read_text(), re.M) if env.exists() else None
    return ["--build-arg", f"BASE_IMAGE={match.group(1)}", "--build-arg", "FACENET_WEIGHTS_URL="] if match else []


@pytest.fixture(scope="module")
def flavours() -> Iterator[dict[str, set[str]]]:
    """The `lambda-files` stage's files for IMAGE_FOR=aws (the default) and =emulator."""
    found: dict[str, set[str]] = {}
    for flavour, args in (("aws", []), ("emulator", ["--build-arg", "IMAGE_FOR=emulator"])):
        ref = f"facegate/recognizer-files:{flavour}-check"
        subprocess.run(["docker", "build", "-q", "-f", "recognizer/Dockerfile", "--target", "lambda-files", "-t", ref,
                        *_local_base(), *args, "."], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "DOCKER_BUILDKIT": "0"})
        found[flavour] = {name.removeprefix("out/") for name in _files(ref) if name.startswith("out/")}
    yield found
    subprocess.run(["docker", "rmi", *(f"facegate/recognizer-files:{f}-check" for f in found)], capture_output=True)


def test_the_local_stacks_image_is_small_and_carries_the_serving_code_only() -> None:
    size = int(subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", IMAGE], capture_output=True,
                              text=True, check=True).stdout)
    assert size <= MAX_BYTES, f"{IMAGE} is {size / 1e6:.1f} MB"
    files = _files(IMAGE)
    packages = {m.group(1) for name in files if (m := re.match(r"var/task/recognizer/(\w+)/__init__\.py$", name))}
    assert packages == set(SERVING)
    assert not {name for name in files if re.match(rf"var/task/recognizer/({'|'.join(TOOLS)})\b", name)}
    assert {"var/task/recognizer/recognize/handler.py", "var/task/recognizer/control/handler.py", EAGER} <= files


def test_only_the_emulators_flavour_carries_the_eager_runtime(flavours: dict[str, set[str]]) -> None:
    assert EAGER not in flavours["aws"]
    assert flavours["emulator"] - flavours["aws"] == {EAGER}
