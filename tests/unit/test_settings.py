"""Every FACEGATE_* setting is read by the contract's loaders, once, and a bad one is named at start-up."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from facegate_contract import settings
from facegate_contract.settings import SettingsError, cli_settings, lambda_settings, serving_settings
from tests.conftest import ROOT


def test_the_lambda_reads_what_deploy_sets() -> None:
    from services.names import StackNames
    from services.stack import DeployOptions, function_environment

    names = StackNames(prefix="facegate", account_id="123456789012", region="eu-west-1")
    loaded = lambda_settings(function_environment(names, DeployOptions(retention_days=7), is_emulator=True))
    assert (loaded.people_table, loaded.sightings_table, loaded.devices_table) == (
        "facegate-people", "facegate-sightings", "facegate-devices")
    assert loaded.bucket == names.bucket and loaded.retention_days == 7 and loaded.presign_endpoint == "request-host"
    assert loaded.log_level == "WARNING"  # deployed functions log no line per request unless asked
    chatty = lambda_settings(function_environment(names, DeployOptions(function_log_level="INFO"), is_emulator=True))
    assert chatty.log_level == "INFO"


def test_a_wrong_function_log_level_is_refused_before_any_deploy() -> None:
    from services.stack import DeployOptions

    with pytest.raises(ValueError, match="WARNING"):
        DeployOptions(function_log_level="LOUD")


@pytest.mark.parametrize(("name", "value", "said"), [
    ("FACEGATE_THREADS", "two", "not a number"), ("FACEGATE_THREADS", "0", "1 to 64"),
    ("FACEGATE_BACKEND", "eigenfaces", "dlib, facenet"), ("FACEGATE_RETENTION_DAYS", "NaN", "1 to 3650"),
    ("FACEGATE_LOG_LEVEL", "LOUD", "INFO"), ("FACEGATE_MIN_FACE", "1e9", "12 to 1000"),
])
def test_a_bad_setting_is_named_at_start_up(name: str, value: str, said: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(name)) as refused:
        lambda_settings({name: value})
    assert said in str(refused.value)


def test_defaults_serve_and_the_cli_reads_its_own() -> None:
    serving = serving_settings({})
    assert (serving.backend, serving.detector, serving.threads, serving.min_face) == ("dlib", "mtcnn", 1, 40)
    assert serving.cache_dir == Path("/tmp/.cache/facegate/onnx")
    cli = cli_settings({"FACEGATE_ENDPOINT_URL": "http://localhost:4566/", "AWS_DEFAULT_REGION": "eu-west-1",
                        "FACEGATE_DEBUG": "1"})
    assert (cli.endpoint_url, cli.region, cli.debug) == ("http://localhost:4566", "eu-west-1", True)


def test_no_role_reads_a_facegate_setting_by_itself() -> None:
    """The names live in the contract: a role spelling `"FACEGATE_..."` or reading os.environ bypasses the loaders."""
    declared = {v for k, v in vars(settings).items() if k.startswith("ENV_")}
    offenders = []
    for folder in ("pi_app", "recognizer", "services", "facegate_cli"):
        for path in (ROOT / folder).rglob("*.py"):
            if {"export", "torch_reference"} & set(path.parts):
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in re.findall(r'"(FACEGATE_[A-Z_]+)"', text)]
            offenders += [f"{path.relative_to(ROOT)}: getenv" for _ in re.findall(r"\bgetenv\(|environ\.get\(", text)]
    assert offenders == [] and "FACEGATE_THREADS" in declared


def test_the_device_reads_its_own_and_nothing_when_unset() -> None:
    device = settings.device_settings({"FACEGATE_DEVICE_FILE": "door.json", "FACEGATE_ENDPOINT_URL": "http://e:4566/",
                                       "AWS_PROFILE": "door"})
    assert (device.device_file, device.endpoint_url, device.profile) == (Path("door.json"), "http://e:4566", "door")
    assert settings.device_settings({}) == settings.DeviceSettings()
