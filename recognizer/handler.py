"""Lambda entry point. Everything heavy loads once per container, at init, with a warm-up pass."""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from facegate_contract import configure_json_logging

_t0 = time.perf_counter()
configure_json_logging(os.environ.get("FACEGATE_LOG_LEVEL", "INFO"))
log = logging.getLogger("recognizer")


def build_service() -> Any:
    """Wire the service from environment variables (the deploy sets them; names from the wire contract)."""
    import boto3
    from botocore.config import Config

    from facegate_contract import (ENV_BUCKET, ENV_DEVICES_TABLE, ENV_MODEL_PREFIX, ENV_PEOPLE_TABLE,
                                   ENV_RETENTION_DAYS, ENV_SIGHTINGS_TABLE, MODELS_PREFIX)
    from recognizer.artifact_store import S3ArtifactStore
    from recognizer.classifier import OpenSetClassifier
    from recognizer.device_identity import DeviceDirectory
    from recognizer.model_source import ModelSource
    from recognizer.people_details import PeopleDirectory
    from recognizer.pipeline import FacePipeline
    from recognizer.service import RecognizerService
    from recognizer.sightings_log import SightingsLog

    env = os.environ.get
    backend = env("FACEGATE_BACKEND", "dlib")
    pipeline = FacePipeline.load(backend)  # raises ModelUnavailable: refuse to start without weights
    # A fault in DynamoDB or S3 must cost a request little time: short timeouts, one retry.
    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    bucket, local_dir = env(ENV_BUCKET), env("FACEGATE_MODEL_DIR")
    store = S3ArtifactStore(boto3.client("s3", config=config), bucket, env(ENV_MODEL_PREFIX, MODELS_PREFIX)) if bucket else None
    empty = OpenSetClassifier.empty(backend, pipeline.embedder.default_threshold, pipeline.embedder.dimension)
    models = ModelSource(empty, store=store, local_dir=Path(local_dir) if local_dir else None,
                         refresh_s=float(env("FACEGATE_MODEL_REFRESH_S", "15")))
    dynamodb = boto3.resource("dynamodb", config=config)
    table = lambda name: dynamodb.Table(env(name)) if env(name) else None  # noqa: E731
    people, sightings, devices = table(ENV_PEOPLE_TABLE), table(ENV_SIGHTINGS_TABLE), table(ENV_DEVICES_TABLE)
    retention_days = int(env(ENV_RETENTION_DAYS, "30"))
    return RecognizerService(
        pipeline, models,
        people=PeopleDirectory(people) if people else None,
        sightings=SightingsLog(sightings, retention_days) if sightings else None,
        devices=DeviceDirectory(devices) if devices else None,
    )


SERVICE = build_service()
_warm_ms = SERVICE.warm_up()
INIT_MS = (time.perf_counter() - _t0) * 1e3
log.info("recognizer ready", extra={"init_ms": round(INIT_MS, 1), "warmup_ms": round(_warm_ms, 1),
                                    "model_version": SERVICE.models.version})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for API Gateway (REST, proxy integration)."""
    return SERVICE.handle(event)
