"""Every `FACEGATE_*` setting, and one loader per role that reads the environment once, at start-up, and checks it.

Nothing else in the project reads `os.environ` for a setting: the recognizer and control Lambdas take
`lambda_settings()` at init, the face networks `serving_settings()`, the CLI `cli_settings()`, the device
`device_settings()`. A value that does not
parse is reported when the process starts (SettingsError, one line), not at the first visitor.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from facegate_contract.environment import (ENV_BUCKET, ENV_DEVICES_TABLE, ENV_MODEL_PREFIX, ENV_PEOPLE_TABLE,
                                           ENV_PRESIGN_ENDPOINT, ENV_RETENTION_DAYS, ENV_SIGHTINGS_TABLE)
from facegate_contract.naming import MODELS_PREFIX

# The networks (the Lambda and every laptop tool that runs them)
ENV_BACKEND = "FACEGATE_BACKEND"  # dlib | facenet
ENV_DETECTOR = "FACEGATE_DETECTOR"  # mtcnn | mtcnn-torch
ENV_DLIB_ENGINE = "FACEGATE_DLIB_ENGINE"  # onnx | native (the dlib package itself: parity tests, comparison image)
ENV_THREADS = "FACEGATE_THREADS"  # ONNX Runtime intra-op threads
ENV_TORCH_THREADS = "FACEGATE_TORCH_THREADS"  # torch threads of the reference networks (training, parity)
ENV_MIN_FACE = "FACEGATE_MIN_FACE"  # the smallest face MTCNN looks for, in pixels
ENV_ONNX_DIR = "FACEGATE_ONNX_DIR"  # where the exported networks are (default: the image's, then the user cache)
# The Lambdas
ENV_LOG_LEVEL = "FACEGATE_LOG_LEVEL"
ENV_MODEL_DIR = "FACEGATE_MODEL_DIR"  # a model folder to serve instead of the stack's published one
ENV_MODEL_REFRESH_S = "FACEGATE_MODEL_REFRESH_S"  # how often the recognizer looks for a newer published model
# The CLI
ENV_ENDPOINT_URL = "FACEGATE_ENDPOINT_URL"  # the emulator's URL (absent: real AWS)
ENV_OUTPUTS = "FACEGATE_OUTPUTS"  # the deploy outputs file (default .facegate/outputs.json)
ENV_CONSOLE_PASSWORD = "FACEGATE_CONSOLE_PASSWORD"  # the console password deploy sets
ENV_DEBUG = "FACEGATE_DEBUG"  # "1": tracebacks instead of one-line errors
ENV_DEVICE_FILE = "FACEGATE_DEVICE_FILE"  # `facegate run --device-file`
ENV_FACENET_WEIGHTS = "FACEGATE_FACENET_WEIGHTS"  # `facegate train --backend facenet --weights`
ENV_PUBLIC_ENDPOINT_URL = "FACEGATE_PUBLIC_ENDPOINT_URL"  # the emulator as the console's browser reaches it

BACKENDS = ("dlib", "facenet")
DETECTORS = ("mtcnn", "mtcnn-torch")
DLIB_ENGINES = ("onnx", "native")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(ValueError):
    """A setting in the environment that does not parse (reported at start-up)."""

    friendly = True  # printed as one line by the CLI
    exit_code = 2


class _Reader:
    def __init__(self, environ: Mapping[str, str] | None) -> None:
        self.environ = os.environ if environ is None else environ

    def text(self, name: str, default: str = "") -> str:
        return self.environ.get(name) or default

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in allowed:
            raise SettingsError(f"{name}={value!r}: use one of {', '.join(allowed)}")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.text(name)
        try:
            value = float(raw) if raw else default
        except ValueError:
            raise SettingsError(f"{name}={raw!r} is not a number") from None
        if not low <= value <= high:
            raise SettingsError(f"{name}={raw}: use {low:g} to {high:g}")
        return value

    def path(self, name: str) -> Path | None:
        raw = self.text(name)
        return Path(raw) if raw else None


@dataclass(frozen=True)
class ServingSettings:
    """How the face networks run."""

    backend: str = "dlib"
    detector: str = "mtcnn"
    dlib_engine: str = "onnx"
    threads: int = 1
    torch_threads: int = 2  # torch's kernels gain from a second thread (1 thread is 1.3-1.7x slower)
    min_face: int = 40  # a door camera's faces are >= 40 px in a 640x480 frame: smaller pyramid levels are skipped
    onnx_dir: Path | None = None
    home: Path = Path("/tmp")  # the user cache lives under it (a Lambda may have no HOME)

    @property
    def cache_dir(self) -> Path:
        """The per-user cache the training tools export the networks into."""
        return self.home / ".cache" / "facegate" / "onnx"


@dataclass(frozen=True)
class LambdaSettings:
    """What the recognizer and control functions are given by `facegate deploy`."""

    people_table: str = ""
    sightings_table: str = ""
    devices_table: str = ""
    bucket: str = ""
    model_prefix: str = MODELS_PREFIX
    retention_days: int = 30
    presign_endpoint: str | None = None
    log_level: str = "INFO"
    model_dir: Path | None = None
    model_refresh_s: float = 15.0
    region: str | None = None  # AWS_REGION, set by Lambda itself
    serving: ServingSettings = field(default_factory=ServingSettings)


@dataclass(frozen=True)
class CliSettings:
    """What the `facegate` command takes from the environment."""

    endpoint_url: str | None = None
    region: str | None = None  # AWS_REGION, else AWS_DEFAULT_REGION (AWS's own names)
    outputs: Path = Path(".facegate/outputs.json")
    console_password: str | None = None
    debug: bool = False


@dataclass(frozen=True)
class DeviceSettings:
    """What `facegate run` takes from the environment when its options do not say (the options win)."""

    device_file: Path | None = None  # FACEGATE_DEVICE_FILE: the device's file from `facegate device add`
    endpoint_url: str | None = None  # FACEGATE_ENDPOINT_URL: with deploy outputs, the emulator's URL
    profile: str | None = None  # AWS_PROFILE (AWS's own name): with deploy outputs, for direct S3 uploads


def device_settings(environ: Mapping[str, str] | None = None) -> DeviceSettings:
    """The device's settings from the environment."""
    read = _Reader(environ)
    endpoint = read.text(ENV_ENDPOINT_URL)
    return DeviceSettings(device_file=read.path(ENV_DEVICE_FILE), endpoint_url=endpoint.rstrip("/") or None,
                          profile=read.text("AWS_PROFILE") or None)


def serving_settings(environ: Mapping[str, str] | None = None) -> ServingSettings:
    """The networks' settings from the environment (FACEGATE_BACKEND, _DETECTOR, _DLIB_ENGINE, _THREADS,
    _TORCH_THREADS, _MIN_FACE, _ONNX_DIR; HOME for the user cache)."""
    read = _Reader(environ)
    return ServingSettings(
        backend=read.choice(ENV_BACKEND, "dlib", BACKENDS), detector=read.choice(ENV_DETECTOR, "mtcnn", DETECTORS),
        dlib_engine=read.choice(ENV_DLIB_ENGINE, "onnx", DLIB_ENGINES),
        threads=int(read.number(ENV_THREADS, 1, 1, 64)), torch_threads=int(read.number(ENV_TORCH_THREADS, 2, 1, 64)),
        min_face=int(read.number(ENV_MIN_FACE, 40, 12, 1000)),
        onnx_dir=read.path(ENV_ONNX_DIR), home=Path(read.text("HOME", "/tmp")))


def lambda_settings(environ: Mapping[str, str] | None = None) -> LambdaSettings:
    """A Lambda's settings from the environment deploy set (services/stack.function_environment)."""
    read = _Reader(environ)
    return LambdaSettings(
        people_table=read.text(ENV_PEOPLE_TABLE), sightings_table=read.text(ENV_SIGHTINGS_TABLE),
        devices_table=read.text(ENV_DEVICES_TABLE), bucket=read.text(ENV_BUCKET),
        model_prefix=read.text(ENV_MODEL_PREFIX, MODELS_PREFIX),
        retention_days=int(read.number(ENV_RETENTION_DAYS, 30, 1, 3650)),
        presign_endpoint=read.text(ENV_PRESIGN_ENDPOINT) or None,
        log_level=read.choice(ENV_LOG_LEVEL, "INFO", LOG_LEVELS), model_dir=read.path(ENV_MODEL_DIR),
        model_refresh_s=read.number(ENV_MODEL_REFRESH_S, 15, 0.5, 86400),
        region=read.text("AWS_REGION") or read.text("AWS_DEFAULT_REGION") or None,
        serving=serving_settings(environ))


def cli_settings(environ: Mapping[str, str] | None = None) -> CliSettings:
    """The CLI's settings from the environment."""
    read = _Reader(environ)
    endpoint = read.text(ENV_ENDPOINT_URL)
    return CliSettings(endpoint_url=endpoint.rstrip("/") if endpoint else None,
                       region=read.text("AWS_REGION") or read.text("AWS_DEFAULT_REGION") or None,
                       outputs=Path(read.text(ENV_OUTPUTS, ".facegate/outputs.json")),
                       console_password=read.text(ENV_CONSOLE_PASSWORD) or None, debug=read.text(ENV_DEBUG) == "1")

