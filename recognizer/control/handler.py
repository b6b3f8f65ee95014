"""Lambda entry point of the control function (the same image as the recognizer, another command): clip upload
URLs, clip links, visit reports, door requests and footage requests. Wired from the environment the deploy sets; nothing heavy to load."""
from __future__ import annotations

import logging
from typing import Any

from facegate_contract import configure_json_logging
from facegate_contract.settings import LambdaSettings, lambda_settings

SETTINGS = lambda_settings()  # a setting that does not parse fails the init, with its name
configure_json_logging(SETTINGS.log_level)
log = logging.getLogger("control")


def build_service(settings: LambdaSettings = SETTINGS) -> Any:
    """The control service from the settings deploy gave the function."""
    import boto3
    from botocore.config import Config

    from recognizer.control.clip_transfers import ClipTransfers, s3_presigner
    from recognizer.control.service import ControlService
    from recognizer.api.device_identity import DeviceDirectory
    from recognizer.control.door_requests import DoorRequests
    from recognizer.control.footage_requests import FootageLog
    from recognizer.control.visit_reports import VisitReports

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    dynamodb = boto3.resource("dynamodb", config=config)
    sightings = dynamodb.Table(settings.sightings_table)
    return ControlService(
        ClipTransfers(settings.bucket, lambda endpoint: s3_presigner(endpoint, settings.region),
                      settings.presign_endpoint),
        VisitReports(sightings, settings.retention_days),
        devices=DeviceDirectory(dynamodb.Table(settings.devices_table)),
        doors=DoorRequests(sightings, settings.retention_days),
        footage=FootageLog(sightings),
    )


SERVICE = build_service()
log.info("control ready")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler for API Gateway (REST, proxy integration)."""
    return SERVICE.handle(event)
