"""The real local stack for integration tests: compose's emulator + docker engine, no AWS mocks."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from facegate_contract import StackOutputs
from pi_app.tools.video_manifest import VideoManifest
from services import local_stack, stack
from services.device_commands import provision, revoke
from services.target import Target
from tests.conftest import ROOT

ENDPOINT = os.environ.get("FACEGATE_TEST_ENDPOINT_URL", "http://localhost:4566")


@pytest.fixture(scope="session")
def emulator() -> str:
    """The compose `emulator` service, started for the test run (and stopped after) unless already up."""
    if not local_stack.docker_usable():
        if os.environ.get("FACEGATE_REQUIRE_DOCKER") == "1":
            pytest.fail("docker engine not reachable; run scripts/ensure-docker")
        pytest.skip("docker engine not reachable")
    started = local_stack.ensure_emulator(ENDPOINT)
    yield ENDPOINT
    if started:
        local_stack.stop_stack()


@pytest.fixture(scope="session")
def target(emulator: str) -> Target:
    return Target(endpoint_url=emulator, region="us-east-1")


@pytest.fixture(scope="session")
def deployed(target: Target, tmp_path_factory: pytest.TempPathFactory) -> tuple[StackOutputs, Path]:
    """The whole stack deployed into the emulator; returns its outputs and the outputs file."""
    result = stack.deploy(target, stack.DeployOptions(extra_environment={"FACEGATE_MODEL_REFRESH_S": "2"}))
    path = tmp_path_factory.mktemp("state") / "outputs.json"
    result.outputs.write(path)
    return result.outputs, path


@pytest.fixture(scope="session")
def add_device(target: Target, deployed: tuple[StackOutputs, Path],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """Provision a device on the deployed stack (its own API key) and return its device file; the session's devices
    are removed at its end, so keys do not pile up on a stack kept between runs."""
    folder = tmp_path_factory.mktemp("devices")
    added: list[str] = []

    def add(device_id: str) -> Path:
        path = folder / f"{device_id}.json"
        # A stack kept between runs (the emulator persists its state) may still hold this test device from a run
        # that ended before its teardown: issue it a new key, as `facegate device remove` + `add` would.
        revoke(target, deployed[0].prefix, device_id)
        provision(target, deployed[0].prefix, device_id).write(path)
        added.append(device_id)
        return path
    yield add
    for device_id in added:
        with contextlib.suppress(Exception):  # removed by its test already
            revoke(target, deployed[0].prefix, device_id)


@pytest.fixture(scope="session")
def enrolled(deployed: tuple[StackOutputs, Path], enrol_images: list[Path]) -> StackOutputs:
    """The demo person enrolled through the CLI (new model version in S3 + people record)."""
    outputs, path = deployed
    result = subprocess.run(
        [sys.executable, "-m", "facegate_cli", "enroll", "--name", "Eileen_Collins", "--outputs", str(path),
         *map(str, enrol_images)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return outputs


def post_frame(outputs: StackOutputs, body: bytes, content_type: str = "image/jpeg", key: str | None = "default",
               timeout: float = 60, **headers: str) -> requests.Response:
    """POST a frame to the deployed /recognize with the API key (or another / none)."""
    all_headers = {"Content-Type": content_type, **headers}
    if key is not None:
        all_headers["x-api-key"] = outputs.api_key if key == "default" else key
    return requests.post(outputs.recognize_url, data=body, headers=all_headers, timeout=timeout)


@pytest.fixture(scope="session")
def lfw_video(lfw_dev: Path, deployed: tuple[StackOutputs, Path], enrolled: StackOutputs,
              tmp_path_factory: pytest.TempPathFactory) -> VideoManifest:
    """A test-time video with a second enrolled person, strangers and two people at once."""
    known = "Laura_Bush"
    photos = sorted((lfw_dev / "training" / known).glob("*.jpg"))
    enrol = subprocess.run([sys.executable, "-m", "facegate_cli", "enroll", "--name", known, "--outputs", str(deployed[1]),
                            *map(str, photos)], capture_output=True, text=True, timeout=600)
    assert enrol.returncode == 0, enrol.stderr
    out = tmp_path_factory.mktemp("video")
    made = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_fixture_videos.py"), "--from-lfw", str(lfw_dev),
                           "--out", str(out), "--known", known], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    return VideoManifest.read(out / "lfw.json")
