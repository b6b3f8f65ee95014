"""Lambda entry point of the control function (the same image as the recognizer, another command): clip upload
URLs, clip links and visit reports. Wired from the environment the deploy sets; nothing heavy to load."""
from __future__ import annotations

import logging
import os
from typing import Any

from facegate_contract import configure_json_logging

configure_json_logging(os.environ.get("FACEGATE_LOG_LEVEL", "INFO"))
log = logging.getLogger("control")


def build_service() -> Any:
    """The control service from environment variables (names from the wire contract)."""
    import boto3
    from botocore.config import Config

    from facegate_contract import (ENV_BUCKET, ENV_DEVICES_TABLE, ENV_PRESIGN_ENDPOINT, ENV_RETENTION_DAYS,
                                   ENV_SIGHTINGS_TABLE)
    from recognizer.clip_transfers import ClipTransfers, s3_presigner
    from recognizer.control_service import ControlService
    from recognizer.device_identity import DeviceDirectory
    from recognizer.visit_reports import VisitReports

    env = os.environ.get
    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    dynamodb = boto3.resource("dynamodb", config=config)
    return ControlService(
        ClipTransfers(env(ENV_BUCKET, ""), s3_presigner, env(ENV_PRESIGN_ENDPOINT)),
        VisitReports(dynamodb.Table(env(ENV_SIGHTINGS_TABLE, "")), int(env(ENV_RETENTION_DAYS, "30"))),
        devices=DeviceDirectory(dynamodb.Table(env(ENV_DEVICES_TABLE, ""))),
    )


SERVICE = build_service()
log.info("control ready")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for API Gateway (REST, proxy integration)."""
    return SERVICE.handle(event)
