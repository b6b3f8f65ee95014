"""Connect the device to a deployed stack: the recognize endpoint with its API key, and the clips bucket."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from botocore.config import Config

from facegate_contract import RECOGNIZE_PATH, StackOutputs, aws_session, default_outputs_path
from pi_app.actions.clip_links import SIGV4, S3ClipLinks
from pi_app.recognize_client import RecognizeClient, RetryPolicy
from pi_app.s3_uploader import S3ClipUploader

log = logging.getLogger(__name__)

# A device should notice quickly that S3 is unreachable: its own backoff takes over from there.
_S3_TIMEOUTS = {"connect_timeout": 5, "read_timeout": 30}


@dataclass
class StackConnection:
    """The two services a device uses, links to its clips for alerts, and a secret-free description for logs."""

    recognizer: RecognizeClient
    uploader: S3ClipUploader
    clip_links: S3ClipLinks
    description: str

    def close(self) -> None:
        """Release the HTTP connections."""
        self.recognizer.close()


def recognize_url(api_url: str) -> str:
    """The /recognize URL of an API stage URL (given either the stage URL or the full resource URL)."""
    api_url = api_url.rstrip("/")
    return api_url if api_url.endswith(RECOGNIZE_PATH) else api_url + RECOGNIZE_PATH


def connect(device_id: str, *, outputs: Path | None = None, endpoint_url: str | None = None,
            profile: str | None = None, api_url: str | None = None, api_key: str | None = None,
            bucket: str | None = None, region: str | None = None,
            retry_policy: RetryPolicy | None = None) -> StackConnection:
    """Connect from the deploy outputs file (default), or from an explicit API URL + key.

    With `api_url`, the bucket is `bucket`, else the outputs file's; the S3 target is the outputs file's
    when it is read, else `endpoint_url` / `profile` / `region`. Raises ValueError when the options do not
    name a usable stack, FileNotFoundError when a needed outputs file is missing.
    """
    if api_url and not api_key:
        raise ValueError("--api-url needs --api-key")
    stack = None
    if not api_url or outputs is not None or not bucket:
        path = outputs or default_outputs_path()
        if api_url and outputs is None and not path.exists():
            raise ValueError("--api-url needs --bucket, or an outputs file that names the clips bucket")
        stack = StackOutputs.read(path).seen_from(endpoint_url)
    if stack is not None:
        endpoint, where = stack.endpoint_url, stack.region
        bucket = bucket or stack.bucket
    else:
        endpoint, where = endpoint_url, region or "us-east-1"
    session = aws_session(endpoint, None if endpoint else profile, where)
    if api_url:
        url, key = recognize_url(api_url), api_key or ""
    else:
        assert stack is not None  # without --api-url the outputs file is the only source, read above
        url, key = stack.recognize_url, stack.api_key
    client = RecognizeClient(url, key, device_id=device_id, policy=retry_policy or RetryPolicy())
    s3 = session.client("s3", endpoint_url=endpoint,  # SigV4 for the presigned clip links too
                        config=Config(signature_version=SIGV4, retries={"max_attempts": 1}, **_S3_TIMEOUTS))
    uploader = S3ClipUploader(s3, bucket or "")
    where_to = f"emulator {endpoint}" if endpoint else f"AWS profile {profile or '(default chain)'}"
    description = f"recognize {url}; clips to s3://{bucket} ({where_to}, region {where})"
    log.info("connected to the stack", extra={"recognize_url": url, "bucket": bucket, "target": where_to})
    return StackConnection(client, uploader, S3ClipLinks(s3, bucket or ""), description)
