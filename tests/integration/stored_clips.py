"""What a device's clips look like in the bucket: each clip alone (`clips/<device>/<day>/<clip-id>.mp4`) or a member
of its visit's bundle (`clips/<device>/<day>/<visit-id>.zip`, an uncompressed ZIP of `<clip-id>.mp4`)."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from facegate_contract import clip_key, parse_bundle_key, parse_clip_key


@dataclass
class StoredClips:
    """Every object under a device's prefix, and each clip's bytes wherever it is."""

    objects: set[str] = field(default_factory=set)  # every key under the prefix (clips, bundles, browser copies)
    alone: dict[str, bytes] = field(default_factory=dict)  # clip key -> its own object's bytes
    bundled: dict[str, bytes] = field(default_factory=dict)  # clip key -> its bytes as a bundle member
    bundles: dict[str, list[str]] = field(default_factory=dict)  # bundle key -> its members' clip keys

    @property
    def clips(self) -> set[str]:
        """The clip keys stored, alone or in a bundle."""
        return set(self.alone) | set(self.bundled)

    def body(self, key: str) -> bytes:
        return self.alone.get(key) or self.bundled[key]


def stored_clips(s3: Any, bucket: str, device: str) -> StoredClips:
    """Read every clip and bundle of `device` (checking each bundle is a ZIP of stored MP4s)."""
    stored = StoredClips()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"clips/{device}/"):
        stored.objects |= {o["Key"] for o in page.get("Contents", [])}
    for key in sorted(stored.objects):
        if parse_clip_key(key):
            stored.alone[key] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        elif parse_bundle_key(key):
            response = s3.get_object(Bucket=bucket, Key=key)
            assert response["ContentType"] == "application/zip", response["ContentType"]
            with zipfile.ZipFile(io.BytesIO(response["Body"].read())) as bundle:
                members = []
                for info in bundle.infolist():
                    assert info.compress_type == zipfile.ZIP_STORED and info.filename.endswith(".mp4")
                    member = clip_key(device, info.filename[: -len(".mp4")])
                    stored.bundled[member] = bundle.read(info)
                    members.append(member)
            stored.bundles[key] = members
    return stored
