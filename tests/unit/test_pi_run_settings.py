"""`facegate run`'s settings: options checked and grouped, the environment (the contract's device loader) filling
only what the options leave out."""
from __future__ import annotations

from pathlib import Path

import pytest
import typer

from facegate_contract.settings import device_settings
from pi_app.runtime.run_settings import CameraChoice, ClipWork, StackChoice

ENVIRONMENT = device_settings({"FACEGATE_DEVICE_FILE": "env-door.json", "FACEGATE_ENDPOINT_URL": "http://env:4566",
                               "AWS_PROFILE": "env-profile"})


def _stack(**options: object) -> StackChoice:
    given: dict = {"device_file": None, "outputs": None, "endpoint_url": None, "profile": None, **options}
    return StackChoice.checked(ENVIRONMENT, connect_timeout=3.0, read_timeout=10.0, stale_after=30.0, **given)


def test_the_environment_fills_what_the_options_leave_out() -> None:
    assert _stack().device_file == Path("env-door.json")
    assert _stack(device_file=Path("door.json")).device_file == Path("door.json")
    developer = _stack(outputs=Path("outputs.json"), profile="mine")
    assert (developer.device_file, developer.endpoint_url, developer.profile) == (None, "http://env:4566", "mine")


def test_a_call_that_could_outlive_its_clip_is_refused() -> None:
    with pytest.raises(typer.BadParameter, match="must be under --stale-after"):
        StackChoice.checked(ENVIRONMENT, device_file=None, outputs=None, endpoint_url=None, profile=None,
                            connect_timeout=3.0, read_timeout=30.0, stale_after=30.0)


def test_clip_work_groups_the_spool_budget_and_the_motion_gate() -> None:
    work = ClipWork.checked(clip_seconds=0.5, duration=None, drain_timeout=0.0, workers=2, stale_after=30.0,
                            max_side=640, fourcc=None, keep_done=False, spool_max_gb=1.0, spool_min_free_mb=0.0,
                            motion_gate=False, motion_threshold=0.01, upload_still=False, upload="all",
                            kept_max_gb=0.5)
    assert (work.spool_limits.max_bytes, work.spool_limits.min_free_bytes) == (1024**3, 0)
    assert (work.motion.enabled, work.motion.threshold, work.motion.upload_still) == (False, 0.01, False)
    assert (work.upload.mode, work.kept_max_bytes) == ("all", 1024**3 // 2)


def test_the_tracking_skip_is_on_by_default_and_its_recheck_must_be_positive() -> None:
    options: dict = dict(clip_seconds=0.5, duration=None, drain_timeout=0.0, workers=2, stale_after=30.0, max_side=640,
                         fourcc=None, keep_done=False, spool_max_gb=1.0, spool_min_free_mb=0.0, motion_gate=True,
                         motion_threshold=0.01, upload_still=True, upload="visits", kept_max_gb=1.0)
    assert (ClipWork.checked(**options).tracking.enabled, ClipWork.checked(**options).tracking.recheck_s) == (True, 2.0)
    off = ClipWork.checked(**options, track_decided=False, recheck_s=4.0).tracking
    assert (off.enabled, off.recheck_s) == (False, 4.0)
    with pytest.raises(typer.BadParameter, match="must be positive") as refused:
        ClipWork.checked(**options, recheck_s=0.0)
    assert refused.value.param_hint == "--recheck-s"


def test_an_upload_mode_the_device_does_not_know_is_refused() -> None:
    with pytest.raises(typer.BadParameter, match="all, visits"):
        ClipWork.checked(clip_seconds=0.5, duration=None, drain_timeout=0.0, workers=2, stale_after=30.0,
                         max_side=640, fourcc=None, keep_done=False, spool_max_gb=1.0, spool_min_free_mb=0.0,
                         motion_gate=True, motion_threshold=0.01, upload_still=True, upload="some", kept_max_gb=1.0)


def test_a_replayed_video_is_stamped_with_its_own_clock_only_when_fast(tmp_path: Path) -> None:
    (tmp_path / "door.mp4").write_bytes(b"")
    assert CameraChoice.checked(f"video:{tmp_path / 'door.mp4'}", False, False, "320x240", 10.0).stream_clock
    assert not CameraChoice.checked(f"video:{tmp_path / 'door.mp4'}", True, False, "320x240", 10.0).stream_clock
    with pytest.raises(typer.BadParameter, match="WIDTHxHEIGHT"):
        CameraChoice.checked("picamera2", True, False, "wide", 10.0)


def test_the_visit_report_hold_defaults_to_the_reporters_own() -> None:
    import dataclasses
    import inspect

    from pi_app.runtime.device_cli import run
    from pi_app.runtime.run_settings import RunSettings
    from pi_app.transport.visit_reporter import DEFAULT_HOLD_S

    (field,) = [f for f in dataclasses.fields(RunSettings) if f.name == "visit_report_hold_s"]
    assert inspect.signature(run).parameters["visit_report_hold"].default == field.default == DEFAULT_HOLD_S
