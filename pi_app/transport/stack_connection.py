"""Connect the device to a deployed stack.

Two ways, one result (recognize client, clip uploader, clip links):
- a device file (`facegate device add`): the Pi's whole configuration. The device's own API key does everything:
  recognition, and clips to S3 through presigned URLs the API signs for the device's own prefix. No AWS
  credentials on the device.
- the deploy outputs (developers): the developer key for recognition, and clips straight to S3 with AWS
  credentials (a named profile, or the emulator's test ones).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.config import Config

from facegate_contract import VISITS_PATH, DeviceFile, StackOutputs, aws_session, default_outputs_path
from facegate_contract.wire import VisitReport, to_builtins
from pi_app.actions.clip_links import SIGV4, ClipLinks, S3ClipLinks
from pi_app.transport.api_clip_transfers import ApiClipLinks, ApiClipUploader
from pi_app.transport.api_session import ApiSession, AttemptTimeout
from pi_app.transport.door_request_client import ApiDoorRequests
from pi_app.transport.footage_client import ApiFootage
from pi_app.transport.recognize_client import RecognizeClient
from pi_app.transport.s3_uploader import S3ClipUploader

log = logging.getLogger(__name__)

# A device should notice quickly that S3 is unreachable: the worker's gate owns retries from there.
_S3_CONFIG = {"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 1}}


@dataclass
class StackConnection:
    """What a device uses of the stack, and a secret-free description for logs and the live view."""

    device_id: str
    recognizer: RecognizeClient
    uploader: Any  # ApiClipUploader | S3ClipUploader
    clip_links: ClipLinks
    description: str
    session: ApiSession
    visits_url: str
    door_requests: ApiDoorRequests  # confirm mode: door requests filed and polled with the device's key
    footage: ApiFootage  # the console's requests for kept footage, polled and answered with the device's key

    def report_visit(self, report: VisitReport) -> dict[str, Any]:
        """POST one visit report (pi_app.transport.visit_reporter sends them); raises a ServiceError when it cannot."""
        return self.session.post_json("visit report", self.visits_url, to_builtins(report))

    def close(self) -> None:
        """Release the HTTP connections."""
        self.session.close()


def connect(*, device_file: Path | None = None, outputs: Path | None = None, endpoint_url: str | None = None,
            profile: str | None = None, timeout: AttemptTimeout = AttemptTimeout()) -> StackConnection:
    """Connect through a device file when given, else through the deploy outputs (default .facegate/outputs.json).

    Raises ContractFileError (a missing or malformed file) before anything is started.
    """
    if device_file is not None:
        return _from_device_file(DeviceFile.read(device_file), timeout)
    return _from_outputs(StackOutputs.read(outputs or default_outputs_path()).seen_from(endpoint_url), profile,
                         timeout)


def _from_device_file(device: DeviceFile, timeout: AttemptTimeout) -> StackConnection:
    session = ApiSession(device.api_key, timeout)
    description = f"{device.device_id} → {device.api_url} (clips through presigned URLs)"
    log.info("connected to the stack", extra={"device_id": device.device_id, "api_url": device.api_url,
                                              "clips": "presigned"})
    return StackConnection(device.device_id, RecognizeClient(device.recognize_url, session),
                           ApiClipUploader(session, device.uploads_url, device.upload_grants_url),
                           ApiClipLinks(session, device.clip_links_url),
                           description, session, device.visits_url, ApiDoorRequests(session, device.api_url),
                           ApiFootage(session, device.api_url))


def _from_outputs(stack: StackOutputs, profile: str | None, timeout: AttemptTimeout) -> StackConnection:
    session = ApiSession(stack.api_key, timeout)
    aws = aws_session(stack.endpoint_url, None if stack.endpoint_url else profile, stack.region)
    s3 = aws.client("s3", endpoint_url=stack.endpoint_url,  # SigV4 for the presigned clip links too
                    config=Config(signature_version=SIGV4, **_S3_CONFIG))
    where = f"emulator {stack.endpoint_url}" if stack.endpoint_url else f"AWS profile {profile or '(default chain)'}"
    description = f"{stack.device_id} → {stack.recognize_url}; clips to s3://{stack.bucket} ({where})"
    log.info("connected to the stack", extra={"device_id": stack.device_id, "recognize_url": stack.recognize_url,
                                              "bucket": stack.bucket, "target": where})
    return StackConnection(stack.device_id, RecognizeClient(stack.recognize_url, session),
                           S3ClipUploader(s3, stack.bucket), S3ClipLinks(s3, stack.bucket), description, session,
                           stack.api_url.rstrip("/") + VISITS_PATH, ApiDoorRequests(session, stack.api_url),
                           ApiFootage(session, stack.api_url))
