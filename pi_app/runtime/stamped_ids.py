"""Ids that are unique across restarts and devices and sort by time: a UTC stamp and a random suffix."""
from __future__ import annotations

import secrets

from pi_app.recording.clip_names import utc_stamp


def stamped_id(epoch_s: float) -> str:
    """`20261123T231158.500Z-1a2b3c4d`: sorts as text by `epoch_s`; 32 random bits keep two ids of the
    same millisecond (or of two devices, or of a restarted device) apart."""
    return f"{utc_stamp(epoch_s)}-{secrets.token_hex(4)}"
