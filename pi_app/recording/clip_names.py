"""Names of a clip: its id (also its spool folder) and its S3 key (the key's shape is the wire contract's).

    id   <UTC timestamp>-<seq>            20261123T231158.500Z-000042
    key  clips/<device-id>/<YYYY>/<MM>/<DD>/<id>.mp4

Ids sort in recording order (as text), so the spool and the bucket list oldest first.
"""
from __future__ import annotations

import re
import socket
from datetime import UTC, datetime

from facegate_contract import is_device_id
from facegate_contract.naming import utc_stamp  # noqa: F401 - re-exported: the contract's, shared with request ids


def clip_id(started_at: float, seq: int) -> str:
    """The id of the clip that started at `started_at` (epoch seconds) with sequence number `seq`."""
    return f"{utc_stamp(started_at)}-{seq:06d}"


def clip_started_at(clip: str) -> float:
    """When the clip started (epoch seconds), read back from its id (the inverse of `clip_id`, to the millisecond)."""
    stamp = clip.rsplit("-", 1)[0]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC).timestamp()


def clip_seq(clip: str) -> int:
    """The sequence number inside a clip id."""
    return int(clip.rsplit("-", 1)[1])


def default_device_id() -> str:
    """This machine's host name, reduced to the characters a device id may hold."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()).strip("-._")[:63]
    return cleaned if is_device_id(cleaned) else "device"
