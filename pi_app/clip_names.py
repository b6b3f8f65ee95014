"""Names of a clip: its id (also its spool folder) and its S3 key.

    id   <UTC timestamp>-<seq>            20261123T231158.500Z-000042
    key  clips/<device-id>/<YYYY>/<MM>/<DD>/<id>.mp4

Ids sort in recording order (as text), so the spool and the bucket list oldest first.
"""
from __future__ import annotations

import re
import socket
from datetime import UTC, datetime

from services.clip_bucket import CLIPS_PREFIX

DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
CLIP_ID_RE = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-\d{6,}$")


def utc_stamp(epoch_s: float) -> str:
    """Compact UTC time with milliseconds that sorts as text: 20261123T231158.500Z."""
    moment = datetime.fromtimestamp(epoch_s, tz=UTC)
    return f"{moment:%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z"


def clip_id(started_at: float, seq: int) -> str:
    """The id of the clip that started at `started_at` (epoch seconds) with sequence number `seq`."""
    return f"{utc_stamp(started_at)}-{seq:06d}"


def clip_seq(clip: str) -> int:
    """The sequence number inside a clip id."""
    return int(clip.rsplit("-", 1)[1])


def clip_key(device_id: str, clip: str) -> str:
    """Where the clip goes in the bucket: under the clips prefix, by device and UTC day."""
    day = f"{clip[0:4]}/{clip[4:6]}/{clip[6:8]}"
    return f"{CLIPS_PREFIX}{device_id}/{day}/{clip}.mp4"


def is_device_id(value: str) -> bool:
    """True for ids safe in an S3 key and an HTTP header: letters, digits, `.`, `_`, `-`; at most 63."""
    return bool(DEVICE_ID_RE.match(value))


def default_device_id() -> str:
    """This machine's host name, reduced to the characters a device id may hold."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()).strip("-._")[:63]
    return cleaned if is_device_id(cleaned) else "device"
