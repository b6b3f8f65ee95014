"""The photos each person was enrolled from, kept in the stack's private bucket under `people/<First_Last>/`.

Enrolment writes them (the CLI's `facegate enroll` and the console alike), the console's face library shows them,
removing a person deletes them. The Lambda never reads them (its role reaches `models/` and `clips/` only). They
are biometric data: they are kept until the person is removed or enrolled again from other photos, not expired.
"""
from __future__ import annotations

import builtins
import time
from collections.abc import Sequence
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from facegate_contract import is_label
from recognizer.image_decode import sniff_media_type

PHOTOS_PREFIX = "people/"
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class StoredPhoto:
    key: str
    size: int
    media_type: str


class PersonPhotos:
    """Enrolment photos in S3: `<prefix><label>/<UTC stamp>-<id>.<jpg|png>`."""

    def __init__(self, s3: Any, bucket: str, prefix: str = PHOTOS_PREFIX) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix if prefix.endswith("/") else prefix + "/"

    def folder(self, label: str) -> str:
        if not is_label(label):
            raise ValueError(f"not a First_Last label: {label!r}")
        return f"{self._prefix}{label}/"

    def owns(self, label: str, key: str) -> bool:
        """True when `key` is one of `label`'s photo keys (and nothing else, e.g. no `..`)."""
        rest = key[len(self.folder(label)):] if key.startswith(self.folder(label)) else ""
        return bool(rest) and "/" not in rest and not rest.startswith(".")

    def list(self, label: str) -> list[StoredPhoto]:
        """`label`'s photos, oldest first."""
        photos: list[StoredPhoto] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=self.folder(label)):
            for item in page.get("Contents", []):
                key = item["Key"]
                media = "image/png" if key.endswith(".png") else "image/jpeg"
                photos.append(StoredPhoto(key, int(item.get("Size", 0)), media))
        return sorted(photos, key=lambda p: p.key)

    def counts(self) -> dict[str, int]:
        """How many photos each person has (one listing of the whole prefix)."""
        counts: dict[str, int] = {}
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=self._prefix):
            for item in page.get("Contents", []):
                label = item["Key"][len(self._prefix):].split("/", 1)[0]
                counts[label] = counts.get(label, 0) + 1
        return counts

    def add(self, label: str, images: Sequence[Path]) -> builtins.list[str]:
        """Store each image (JPEG or PNG, as it is); returns the new keys."""
        folder = self.folder(label)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        keys = []
        for path in images:
            body = path.read_bytes()
            media = sniff_media_type(body) or "image/jpeg"
            key = f"{folder}{stamp}-{uuid.uuid4().hex[:8]}{_EXTENSIONS.get(media, '.jpg')}"
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=media)
            keys.append(key)
        return keys

    def read(self, key: str) -> bytes:
        """One photo's bytes."""
        return self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()

    def delete_all(self, label: str) -> int:
        """Delete every photo of `label`; returns how many there were."""
        keys = [p.key for p in self.list(label)]
        for start in range(0, len(keys), 1000):
            chunk = keys[start:start + 1000]
            self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
        return len(keys)

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
            return True
        except ClientError:
            return False
