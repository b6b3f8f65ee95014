"""Put a clip into the stack's S3 bucket (the bucket encrypts at rest by default)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

CONTENT_TYPE = "video/mp4"


class S3ClipUploader:
    """Uploads clip files under their key with metadata; errors propagate so the worker can retry later."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
        """One PUT: clips are small (a 0.5 s clip is well under the 5 GB single-PUT limit) and a retry redoes it whole."""
        with open(path, "rb") as body:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=CONTENT_TYPE, Metadata=metadata)
