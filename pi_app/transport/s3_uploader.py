"""Put a clip straight into the stack's S3 bucket with AWS credentials (developers; devices use presigned URLs).

Failures are raised in the worker's vocabulary (pi_app.transport.service_errors): credentials refused = auth rejected,
throttling = throttled, anything else = unavailable; the worker retries all of them, so no clip is dropped.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from facegate_contract import BUNDLE_CONTENT_TYPE, CLIP_CONTENT_TYPE, parse_any_bundle_key
from pi_app.transport.service_errors import ServiceAuthRejected, ServiceError, ServiceThrottled, ServiceUnavailable

_AUTH_CODES = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
_THROTTLE_CODES = {"SlowDown", "Throttling", "RequestLimitExceeded"}


def _service_error(exc: Exception) -> ServiceError:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        kind = (ServiceAuthRejected if code in _AUTH_CODES else ServiceThrottled if code in _THROTTLE_CODES
                else ServiceUnavailable)
        return kind(f"clip upload answered {status} {code}", status=status, error=code)
    return ServiceUnavailable(f"clip upload failed: {exc.__class__.__name__}")


class S3ClipUploader:
    """Uploads clip files under their key with metadata."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        """One PUT: clips are small (a 0.5 s clip is well under the 5 GB single-PUT limit) and a retry redoes it whole;
        a visit's bundle (a bundle key) goes up the same way, as a ZIP."""
        content_type = BUNDLE_CONTENT_TYPE if parse_any_bundle_key(key) else CLIP_CONTENT_TYPE
        try:
            with open(path, "rb") as body:
                self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                                    Metadata=metadata)
        except (ClientError, BotoCoreError) as exc:
            raise _service_error(exc) from exc
