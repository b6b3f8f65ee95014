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
    """Wire the service from environment variables (tables and bucket come from the deploy)."""
    import boto3

    from recognizer.artifact_store import S3ArtifactStore
    from recognizer.classifier import OpenSetClassifier
    from recognizer.model_source import ModelSource
    from recognizer.people_details import PeopleDirectory
    from recognizer.pipeline import FacePipeline
    from recognizer.service import RecognizerService
    from recognizer.sightings_log import SightingsLog

    backend = os.environ.get("FACEGATE_BACKEND", "dlib")
    pipeline = FacePipeline.load(backend)  # raises ModelUnavailable: refuse to start without weights
    bucket = os.environ.get("FACEGATE_MODEL_BUCKET")
    local_dir = os.environ.get("FACEGATE_MODEL_DIR")
    store = None
    if bucket:
        store = S3ArtifactStore(boto3.client("s3"), bucket, os.environ.get("FACEGATE_MODEL_PREFIX", "models/"))
    empty = OpenSetClassifier.empty(backend, pipeline.embedder.default_threshold, pipeline.embedder.dimension)
    models = ModelSource(empty, store=store, local_dir=Path(local_dir) if local_dir else None,
                         refresh_s=float(os.environ.get("FACEGATE_MODEL_REFRESH_S", "15")))
    people_table = os.environ.get("FACEGATE_PEOPLE_TABLE")
    sightings_table = os.environ.get("FACEGATE_SIGHTINGS_TABLE")
    dynamodb = boto3.resource("dynamodb") if people_table or sightings_table else None
    return RecognizerService(
        pipeline,
        models,
        people=PeopleDirectory(dynamodb.Table(people_table)) if people_table else None,
        sightings=SightingsLog(dynamodb.Table(sightings_table)) if sightings_table else None,
    )


SERVICE = build_service()
_warm_ms = SERVICE.warm_up()
INIT_MS = (time.perf_counter() - _t0) * 1e3
log.info("recognizer ready", extra={"init_ms": round(INIT_MS, 1), "warmup_ms": round(_warm_ms, 1),
                                    "model_version": SERVICE.models.version})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for API Gateway (REST, proxy integration)."""
    return SERVICE.handle(event)
