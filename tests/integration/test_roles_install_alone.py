"""Each role installs alone in a fresh venv, carries nothing it does not use, and runs its own commands."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
import venv
from pathlib import Path

import pytest

from facegate_contract import StackOutputs
from tests.conftest import FIXTURE_IMAGES, ROOT

# What each role must not carry (import names).
EXCLUDED = {
    "deploy": ("numpy", "cv2", "onnxruntime", "torch", "dlib", "PIL"),
    "device": ("torch", "onnxruntime", "dlib"),
    "recognizer": ("torch", "cv2", "docker"),
    "train": ("cv2", "docker"),
}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project as a wheel, built once (a role's install is `pip install 'facegate[role]'`)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    return next(out.glob("facegate-*.whl"))


def role_venv(folder: Path, wheel: Path, extra: str) -> Path:
    """A fresh venv with only `facegate[extra]` installed; returns its bin folder."""
    venv.create(folder, with_pip=True)
    bin_dir = folder / "bin"
    result = subprocess.run([str(bin_dir / "pip"), "install", "--quiet", "--disable-pip-version-check",
                             f"{wheel}[{extra}]"], capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return bin_dir


def absent(bin_dir: Path, role: str) -> list[str]:
    """The excluded modules that can be imported in the role's venv (should be none)."""
    probe = "import importlib.util, sys; print([m for m in sys.argv[1:] if importlib.util.find_spec(m)])"
    result = subprocess.run([str(bin_dir / "python"), "-c", probe, *EXCLUDED[role]], capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.replace("'", '"'))


def run(bin_dir: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "facegate"), *args], capture_output=True, text=True, timeout=timeout,
                          env=env or dict(os.environ), cwd=cwd)


def test_deploy_role(wheel: Path, deployed: tuple[StackOutputs, Path], tmp_path: Path) -> None:
    bin_dir = role_venv(tmp_path / "venv", wheel, "deploy")
    assert absent(bin_dir, "deploy") == []
    endpoint = deployed[0].endpoint_url or ""
    status = run(bin_dir, "status", "--endpoint-url", endpoint)
    assert status.returncode == 0, status.stderr[-2000:]
    assert "facegate-recognizer" in status.stdout
    listing = run(bin_dir, "device", "list", "--endpoint-url", endpoint)
    assert listing.returncode == 0 and deployed[0].device_id in listing.stdout
    other = run(bin_dir, "run", "--camera", "picamera2")
    assert other.returncode == 2 and "pip install 'facegate[device]'" in other.stderr


def test_device_role(wheel: Path, enrolled: StackOutputs, add_device, tmp_path: Path) -> None:
    bin_dir = role_venv(tmp_path / "venv", wheel, "device")
    assert absent(bin_dir, "device") == []
    checked = run(bin_dir, "check-actions", str(ROOT / "pi_app" / "actions.example.toml"))
    assert checked.returncode == 0, checked.stderr
    device = f"it-role-device-{uuid.uuid4().hex[:6]}"
    device_file = add_device(device)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FACEGATE_"))}
    env.update({"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
    ran = run(bin_dir, "run", "--device-file", str(device_file), "--camera",
              f"video:{ROOT / 'fixtures' / 'videos' / 'demo.mp4'}", "--fast", "--headless", "--duration", "3",
              "--spool", str(tmp_path / "spool"), "--events", str(tmp_path / "events.jsonl"), env=env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-2000:]
    # In S3: clips alone ("upload") or a visit's clips in one bundle ("bundle_uploaded"), under its own prefix only.
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    uploads = [e for e in events if e.get("event") in ("upload", "bundle_uploaded")]
    assert uploads and all(u["key"].startswith(f"clips/{device}/") for u in uploads), [e.get("event") for e in events]


def test_recognizer_role(wheel: Path, onnx_models: Path, tmp_path: Path) -> None:
    bin_dir = role_venv(tmp_path / "venv", wheel, "recognizer")
    assert absent(bin_dir, "recognizer") == []
    data = tmp_path / "data"
    photos = sorted((FIXTURE_IMAGES / "Eileen_Collins").glob("*.jpg"))
    for split, chosen in (("training", photos[:3]), ("val", photos[3:])):
        (data / split / "Eileen_Collins").mkdir(parents=True)
        for photo in chosen:
            shutil.copy(photo, data / split / "Eileen_Collins" / photo.name)
    env = {**os.environ, "FACEGATE_ONNX_DIR": str(onnx_models)}
    trained = run(bin_dir, "train", "--data", str(data), "--out", str(tmp_path / "model"), env=env)
    assert trained.returncode == 0, trained.stderr[-2000:]
    evaluated = run(bin_dir, "evaluate", "--model", str(tmp_path / "model"), "--data", str(data), env=env)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert json.loads(evaluated.stdout.strip().splitlines()[-1])["accuracy"] == 1.0


def test_train_role_exports_the_networks(wheel: Path, tmp_path: Path) -> None:
    bin_dir = role_venv(tmp_path / "venv", wheel, "train")
    assert absent(bin_dir, "train") == []
    # facenet-pytorch pins torch<2.3: it goes in without its stale pins, as the README says.
    subprocess.run([str(bin_dir / "pip"), "install", "--quiet", "--no-deps", "facenet-pytorch==2.6.0"], check=True,
                   capture_output=True, timeout=600)
    out = tmp_path / "models"
    exported = subprocess.run([str(bin_dir / "python"), "-m", "recognizer.export", "--out", str(out)],
                              capture_output=True, text=True, timeout=900)
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert {"pnet.onnx", "rnet.onnx", "onet.onnx"} <= {p.name for p in out.iterdir()}


def test_the_device_role_resolves_for_raspberry_pi_os_arm64(wheel: Path, tmp_path: Path) -> None:
    """Every wheel `facegate[device]` needs exists for a Pi 4/5 (aarch64, CPython 3.11), with the system's numpy 1.x
    that picamera2 was built against (the constraints file the README's Pi section uses)."""
    constraints = ROOT / "pi_app" / "raspberry-pi-constraints.txt"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--platform",
         "manylinux_2_28_aarch64", "--platform", "manylinux2014_aarch64", "--python-version", "3.11",
         "--implementation", "cp", "-c", str(constraints), "-d", str(tmp_path), f"{wheel}[device]"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    names = {p.name.split("-")[0].lower() for p in tmp_path.glob("*.whl")}
    assert {"numpy", "opencv_python_headless", "requests", "boto3"} <= names
    assert not names & {"torch", "onnxruntime", "dlib_bin"}
    numpy = next(tmp_path.glob("numpy-*.whl")).name
    assert numpy.startswith("numpy-1.") and "aarch64" in numpy
