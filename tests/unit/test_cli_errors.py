"""Argument mistakes get a clear message and exit code 2, before anything is touched."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_IMAGES


def _facegate(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "facegate_cli", *args], capture_output=True, text=True, timeout=120)
    # rich wraps messages inside a box: compare on the words alone.
    result.stderr = " ".join(result.stderr.replace("│", " ").split())
    return result


def test_enroll_rejects_a_name_that_is_not_first_last() -> None:
    result = _facegate("enroll", "--name", "eileen", str(FIXTURE_IMAGES / "no_face.jpg"))
    assert result.returncode == 2
    assert "First_Last" in result.stderr


def test_enroll_rejects_details_that_are_not_a_json_object() -> None:
    result = _facegate("enroll", "--name", "Eileen_Collins", "--details", "[1]", str(FIXTURE_IMAGES / "no_face.jpg"))
    assert result.returncode == 2
    assert "JSON object" in result.stderr


def test_train_needs_an_existing_data_folder(tmp_path: Path) -> None:
    result = _facegate("train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "m"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_deploy_rejects_a_non_positive_retention() -> None:
    result = _facegate("deploy", "--retention-days", "0")
    assert result.returncode == 2


def test_unknown_command_is_an_error() -> None:
    assert _facegate("launch-rockets").returncode == 2
