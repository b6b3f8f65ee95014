"""Lambda entry point. Everything heavy loads once per container, at init, with a warm-up pass."""
from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from facegate_contract import configure_json_logging
from facegate_contract.settings import LambdaSettings, ServingSettings, lambda_settings

_t0 = time.perf_counter()
gc.disable()  # init allocates a great many long-lived objects: no collections until it is done (frozen below)
SETTINGS = lambda_settings()  # a setting that does not parse fails the init, with its name, before any request
configure_json_logging(SETTINGS.log_level)
log = logging.getLogger("recognizer")


class _InitClock:
    """Milliseconds each init step took, for the "recognizer ready" log line (cold start profiling)."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._last = time.perf_counter()

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.steps[name] = round((now - self._last) * 1e3, 1)
        self._last = now


INIT_STEPS = _InitClock()


def _process_age_ms() -> float | None:
    """Milliseconds since this process started (10 ms resolution), or None off Linux."""
    try:
        with open("/proc/self/stat") as stat:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        return round((time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")) * 1e3)
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class _Background:
    """Run `fn` on a thread now; `result()` joins it and returns its value or raises its exception here."""

    def __init__(self, name: str, fn: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), name=name, daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self._value = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised by result(), as if fn had run there
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _load_pipeline(serving: ServingSettings) -> Any:
    from recognizer.pipeline import FacePipeline  # numpy, ONNX Runtime

    return FacePipeline.load(serving.backend, settings=serving)


def build_service(settings: LambdaSettings = SETTINGS) -> Any:
    """Wire the service from environment variables (the deploy sets them; names from the wire contract).

    Cold start: the networks (numpy, ONNX Runtime, whose sessions build without holding the GIL) load on a thread
    while this one imports boto3 and creates the AWS clients; the published model (S3, mostly network waits) loads on a
    thread while the DynamoDB resource is built. The wiring is the same as done one step after the other."""
    backend = settings.serving.backend
    networks = _Background("networks", lambda: _load_pipeline(settings.serving))  # ModelUnavailable without weights
    import boto3
    from botocore.config import Config

    from recognizer.classify.artifact_store import S3ArtifactStore
    from recognizer.classify.open_set import OpenSetClassifier
    from recognizer.api.device_identity import DeviceDirectory
    from recognizer.classify.model_source import ModelSource
    from recognizer.recognize.people_details import PeopleDirectory
    from recognizer.recognize.service import RecognizerService  # Pillow
    from recognizer.recognize.sightings_log import SightingsLog

    INIT_STEPS.step("import_aws_ms")
    # A fault in DynamoDB or S3 must cost a request little time: short timeouts, one retry.
    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    bucket = settings.bucket
    store = S3ArtifactStore(boto3.client("s3", config=config), bucket, settings.model_prefix) if bucket else None
    INIT_STEPS.step("s3_client_ms")
    pipeline = networks.result()
    INIT_STEPS.step("networks_wait_ms")
    empty = OpenSetClassifier.empty(backend, pipeline.embedder.default_threshold, pipeline.embedder.dimension)
    models_loading = _Background("model-source", lambda: ModelSource(
        empty, store=store, local_dir=settings.model_dir, refresh_s=settings.model_refresh_s))
    dynamodb = boto3.resource("dynamodb", config=config)
    table = lambda name: dynamodb.Table(name) if name else None  # noqa: E731
    people, sightings = table(settings.people_table), table(settings.sightings_table)
    devices = table(settings.devices_table)
    retention_days = settings.retention_days
    INIT_STEPS.step("dynamodb_ms")
    models = models_loading.result()
    INIT_STEPS.step("model_wait_ms")
    return RecognizerService(
        pipeline, models,
        people=PeopleDirectory(people) if people else None,
        sightings=SightingsLog(sightings, retention_days) if sightings else None,
        devices=DeviceDirectory(devices) if devices else None,
    )


try:
    SERVICE = build_service()
    _warm_ms = SERVICE.warm_up()
    INIT_STEPS.step("warmup_ms")
    gc.freeze()  # what init built stays: later collections need not walk it
finally:
    gc.enable()
INIT_MS = (time.perf_counter() - _t0) * 1e3
log.info("recognizer ready", extra={"init_ms": round(INIT_MS, 1), "warmup_ms": round(_warm_ms, 1),
                                    "model_version": SERVICE.models.version, "init_steps_ms": INIT_STEPS.steps,
                                    "process_age_ms": _process_age_ms()})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for API Gateway (REST, proxy integration)."""
    return SERVICE.handle(event)
