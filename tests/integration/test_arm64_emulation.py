"""arm64 runs on this machine under qemu user emulation: the cheap part, run on every push (seconds).

scripts/arm64-check is the slow part (an arm64 base, the arm64 Lambda image, its cold start, the `[device]` role
installed under emulation; docs/arm64.md). Here: Debian's arm64 busybox runs as a binary and as a container, and an
arm64 image made on this x86_64 engine says arm64, so a deploy (services.recognizer_image.lambda_architecture) would
send it to Graviton. Skips only where binfmt_misc cannot be mounted (scripts/ensure-emulation exits 3).
"""
from __future__ import annotations

import os
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from services import local_stack
from services.recognizer_image import lambda_architecture
from tests.conftest import ROOT

EM_AARCH64 = 0xB7  # ELF e_machine of AArch64


@pytest.fixture(scope="module")
def emulation() -> None:
    """qemu-user-static installed and registered for aarch64 (scripts/ensure-emulation)."""
    result = subprocess.run([str(ROOT / "scripts" / "ensure-emulation")], check=False, capture_output=True, text=True,
                            timeout=900)
    if result.returncode == 3:
        pytest.skip(f"arm64 emulation is not possible here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def busybox(emulation: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Debian bookworm's arm64 busybox-static, fetched with a private, arm64-only apt state (the host's apt
    configuration and lists are left as they are)."""
    work = tmp_path_factory.mktemp("apt-arm64")
    for folder in ("lists/partial", "cache/archives/partial", "deb"):
        (work / folder).mkdir(parents=True)
    options = ["-o", f"Dir::State::Lists={work / 'lists'}", "-o", f"Dir::Cache={work / 'cache'}",
               "-o", "APT::Architecture=arm64", "-o", "APT::Architectures::=arm64", "-o", "Dir::State::status=/dev/null",
               "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root", "-qq"]
    for args, cwd in ((["update"], work), (["download", "busybox-static"], work / "deb")):
        result = subprocess.run(["apt-get", *options, *args], cwd=cwd, check=False, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
    deb = next((work / "deb").glob("busybox-static_*_arm64.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "root")], check=True, timeout=60)
    binary = work / "root" / "bin" / "busybox"
    header = binary.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == EM_AARCH64, "not an aarch64 ELF"
    return binary


def test_an_arm64_binary_runs_here(busybox: Path) -> None:
    result = subprocess.run([str(busybox), "uname", "-m"], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "aarch64"


@pytest.fixture
def docker_engine() -> None:
    if not local_stack.docker_usable():
        if os.environ.get("FACEGATE_REQUIRE_DOCKER") == "1":
            pytest.fail("docker engine not reachable; run scripts/ensure-docker")
        pytest.skip("docker engine not reachable")


def test_an_arm64_image_runs_and_deploys_as_arm64(busybox: Path, docker_engine: None, tmp_path: Path) -> None:
    """`docker import --platform linux/arm64` then scripts/images/set-arch.py (docker 20.10's import keeps only the
    OS): the container runs under qemu, and the image's architecture is what a Lambda deploy reads."""
    import docker

    tag = f"facegate/test-arm64:{uuid.uuid4().hex[:8]}"
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        tar.add(busybox, arcname="bin/busybox")
    try:
        with rootfs.open("rb") as stream:
            subprocess.run(["docker", "import", "--platform", "linux/arm64", "-", tag], stdin=stream, check=True,
                           capture_output=True, timeout=120)
        relabel = subprocess.run([str(ROOT / "scripts" / "images" / "set-arch.py"), tag, "arm64"],
                                 check=False, capture_output=True, text=True, timeout=300)
        assert relabel.returncode == 0, relabel.stderr
        ran = subprocess.run(["docker", "run", "--rm", tag, "/bin/busybox", "uname", "-m"], check=False,
                             capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == "aarch64"
        assert lambda_architecture(docker.from_env().images.get(tag)) == "arm64"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], check=False, capture_output=True, timeout=120)
