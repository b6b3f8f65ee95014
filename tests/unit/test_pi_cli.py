"""`facegate run` and `facegate collect` reject bad arguments with a clear message and exit code 2."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_IMAGES


def _facegate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "facegate_cli", *args], capture_output=True, text=True, timeout=120,
                            cwd=cwd, env=_env())
    # rich wraps messages inside a box: compare on the words alone.
    result.stderr = " ".join(result.stderr.replace("│", " ").split())
    return result


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACEGATE_", "AWS_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env["COLUMNS"] = "200"  # fewer line breaks inside rich's error box
    return env


@pytest.fixture(scope="module")
def a_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.unit.pi_support import moving_face_video

    return moving_face_video(tmp_path_factory.mktemp("cli") / "door.mp4", seconds=0.5)


@pytest.mark.parametrize("camera, message", [
    ("webcam", "expected `picamera2` or `video:PATH`"),
    ("video:/no/such/door.mp4", "no video file or folder at /no/such/door.mp4"),
])
def test_run_rejects_a_bad_camera(camera: str, message: str) -> None:
    result = _facegate("run", "--camera", camera)

    assert result.returncode == 2
    assert "--camera" in result.stderr and message in result.stderr


def test_run_takes_a_device_file_or_outputs_not_both(a_video: Path, tmp_path: Path) -> None:
    result = _facegate("run", "--camera", f"video:{a_video}", "--device-file", str(tmp_path / "d.json"),
                       "--outputs", str(tmp_path / "o.json"))

    assert result.returncode == 2
    assert "not both" in result.stderr


@pytest.mark.parametrize("option, value", [("--clip-seconds", "0"), ("--clip-seconds", "-0.5"), ("--duration", "0"),
                                           ("--stale-after", "-1"), ("--spool-max-gb", "0"),
                                           ("--recognize-timeout", "0"), ("--recheck-s", "0")])
def test_run_rejects_non_positive_durations(a_video: Path, option: str, value: str) -> None:
    result = _facegate("run", "--camera", f"video:{a_video}", option, value)

    assert result.returncode == 2
    assert option in result.stderr and "must be positive" in result.stderr


def test_run_rejects_a_negative_free_space_floor(a_video: Path) -> None:
    result = _facegate("run", "--camera", f"video:{a_video}", "--spool-min-free-mb", "-1")

    assert result.returncode == 2 and "--spool-min-free-mb" in result.stderr and "zero or more" in result.stderr


def test_run_rejects_a_negative_visit_report_hold(a_video: Path) -> None:
    result = _facegate("run", "--camera", f"video:{a_video}", "--visit-report-hold", "-1")

    assert result.returncode == 2 and "--visit-report-hold" in result.stderr and "zero or more" in result.stderr


def test_run_rejects_a_recognize_timeout_that_would_outlast_stale_after(a_video: Path) -> None:
    result = _facegate("run", "--camera", f"video:{a_video}", "--stale-after", "10", "--recognize-timeout", "8")

    assert result.returncode == 2
    assert "connect + read timeout (11.05 s) must be under --stale-after (10 s)" in result.stderr


def test_run_without_deploy_outputs_says_how_to_get_them(a_video: Path, tmp_path: Path) -> None:
    result = _facegate("run", "--camera", f"video:{a_video}", "--outputs", str(tmp_path / "none.json"))

    assert result.returncode == 2
    assert "run `facegate deploy` first" in result.stderr


def test_run_rejects_a_bad_resolution() -> None:
    result = _facegate("run", "--camera", "picamera2", "--resolution", "big")

    assert result.returncode == 2 and "WIDTHxHEIGHT" in result.stderr


@pytest.mark.parametrize("name", ["eileen", "Eileen Collins", "Eileen_", "_Collins", "Eileen_C0llins"])
def test_collect_rejects_a_name_that_is_not_first_last(name: str) -> None:
    result = _facegate("collect", "--name", name, "--camera", f"video:{FIXTURE_IMAGES}")

    assert result.returncode == 2
    assert "First_Last" in result.stderr


def test_collect_rejects_a_bad_camera() -> None:
    result = _facegate("collect", "--name", "Eileen_Collins", "--camera", "usb0")

    assert result.returncode == 2 and "--camera" in result.stderr


def test_collect_rejects_a_zero_count(a_video: Path) -> None:
    result = _facegate("collect", "--name", "Eileen_Collins", "--count", "0", "--camera", f"video:{a_video}")

    assert result.returncode == 2 and "--count" in result.stderr


def test_run_rejects_a_negative_footage_poll(a_video: Path) -> None:
    result = _facegate("run", "--camera", f"video:{a_video}", "--footage-poll-s", "-1")

    assert result.returncode == 2 and "--footage-poll-s" in result.stderr
