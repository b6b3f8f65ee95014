"""Presigned S3 GET URLs for clips, so an alert's receiver can watch the clip without AWS credentials.

Signing is local (no request to S3): it works for a key whose upload has not landed yet, and the URL
starts working once it has.
"""
from __future__ import annotations

from typing import Any, Protocol

SIGV4 = "s3v4"


class ClipLinks(Protocol):
    """Makes a time-limited link to a clip."""

    def url(self, key: str, expires_s: int) -> str:
        """A URL that GETs the clip at `key` for `expires_s` seconds."""
        ...


class S3ClipLinks:
    """Signs GET URLs with an S3 client of the device (the emulator's endpoint or AWS) set to SigV4.

    botocore presigns with the legacy SigV2 unless told otherwise, and S3 refuses SigV2 on buckets made
    since 2020 and on SSE-KMS objects: a link that fails only on real AWS is caught here, at start-up.
    """

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def url(self, key: str, expires_s: int) -> str:
        """A presigned GET URL for `key`; raises ValueError if the client signs with SigV2, botocore's errors
        (e.g. NoCredentialsError) when it cannot sign."""
        url = self._s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                              ExpiresIn=expires_s)
        # The client's config reports s3v4 either way: look at the link itself.
        if "X-Amz-Algorithm=AWS4-HMAC-SHA256" not in url:
            raise ValueError(f"clip links need an S3 client made with Config(signature_version={SIGV4!r})")
        return url
