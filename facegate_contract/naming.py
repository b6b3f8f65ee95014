"""Names and ids every role must read alike: person labels, device, clip and visit ids, and where clips and
models live in the bucket.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

# ---- S3 ---------------------------------------------------------------------------------------------------------
CLIPS_PREFIX = "clips/"  # clips/<device-id>/<YYYY>/<MM>/<DD>/<clip-id>.mp4, and visit bundles <visit-id>.zip
MODELS_PREFIX = "models/"  # models/versions/<id>/..., models/current.json
CLIP_CONTENT_TYPE = "video/mp4"
# A visit bundle: one uncompressed ZIP of a visit's clips (members `<clip-id>.mp4`), one PUT instead of one a clip.
BUNDLE_CONTENT_TYPE = "application/zip"

# ---- names ------------------------------------------------------------------------------------------------------
# Every id is ASCII and matched whole (`fullmatch`: Python's `$` would also accept a trailing newline, and `\d` any
# script's digits). The patterns are also the wire schema's (facegate_contract.wire), in a form JSON Schema reads.
UNKNOWN = "unknown"  # the answer for a face that matches nobody enrolled
LABEL_PATTERN = r"^[A-Za-z][A-Za-z'\-]*(_[A-Za-z][A-Za-z'\-]*)+$"  # First_Last
DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"  # safe in an S3 key, a header and a file name
CLIP_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9]{6,12}$"  # <UTC stamp>-<seq>: 20261123T231158.500Z-000042
VISIT_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{8}$"  # <UTC stamp>-<8 hex>: sorts by start time
LABEL_RE = re.compile(LABEL_PATTERN, re.ASCII)
DEVICE_ID_RE = re.compile(DEVICE_ID_PATTERN, re.ASCII)
CLIP_ID_RE = re.compile(CLIP_ID_PATTERN, re.ASCII)
VISIT_ID_RE = re.compile(VISIT_ID_PATTERN, re.ASCII)


def utc_stamp(epoch_s: float) -> str:
    """Compact UTC time with milliseconds that sorts as text: 20261123T231158.500Z (the start of clip, visit and
    request ids)."""
    moment = datetime.fromtimestamp(epoch_s, tz=UTC)
    return f"{moment:%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z"


def stamped_id(epoch_s: float) -> str:
    """`20261123T231158.500Z-1a2b3c4d` (a visit, door or footage request id): sorts as text by `epoch_s`; 32 random
    bits keep two ids of the same millisecond (or of two devices, or of a restarted device) apart."""
    return f"{utc_stamp(epoch_s)}-{secrets.token_hex(4)}"


def is_label(value: str) -> bool:
    """True for a person label in First_Last form (letters, apostrophes and hyphens, joined by underscores)."""
    return bool(LABEL_RE.fullmatch(value))


def is_device_id(value: str) -> bool:
    """True for ids safe in an S3 key and an HTTP header: letters, digits, `.`, `_`, `-`; at most 63."""
    return bool(DEVICE_ID_RE.fullmatch(value))


def is_clip_id(value: str) -> bool:
    """True for a clip id: its UTC stamp and a sequence number (20261123T231158.500Z-000042)."""
    return bool(CLIP_ID_RE.fullmatch(value))


def is_visit_id(value: str) -> bool:
    """True for a visit id: its UTC stamp and 8 hex digits (20261123T231158.500Z-1a2b3c4d)."""
    return bool(VISIT_ID_RE.fullmatch(value))


VISIT_PARTITION = "#visit"  # visit summaries live in the sightings table under this partition, sorted by start
DOOR_PARTITION = "#door"  # door requests (confirm mode) live in the sightings table under this partition
FOOTAGE_PARTITION = "#footage"  # footage requests (the console asks a device for its kept clips) live there too
UNDECIDED = "undecided"  # a visit's decision before enough clips agree


def api_key_hash(api_key: str) -> str:
    """How the device registry knows a key without storing it: its SHA-256, hex."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def device_clips_prefix(device_id: str) -> str:
    """The only S3 prefix a device may write clips under."""
    return f"{CLIPS_PREFIX}{device_id}/"


def _day_key(device_id: str, stamped_id: str, suffix: str) -> str:
    """clips/<device-id>/<YYYY>/<MM>/<DD>/<id><suffix>: the UTC day of an id that starts with its stamp."""
    return f"{device_clips_prefix(device_id)}{stamped_id[0:4]}/{stamped_id[4:6]}/{stamped_id[6:8]}/{stamped_id}{suffix}"


def _parse_day_key(key: str, suffix: str, is_id: Callable[[str], bool]) -> tuple[str, str] | None:
    """(device id, id) of a well-formed `_day_key` with this suffix and kind of id, else None."""
    parts = key.split("/")
    if len(parts) != 6 or f"{parts[0]}/" != CLIPS_PREFIX or not parts[5].endswith(suffix):
        return None
    device, stamped_id = parts[1], parts[5][: -len(suffix)]
    if not is_device_id(device) or not is_id(stamped_id) or _day_key(device, stamped_id, suffix) != key:
        return None
    return device, stamped_id


def clip_key(device_id: str, clip: str) -> str:
    """Where a clip goes in the bucket: clips/<device-id>/<YYYY>/<MM>/<DD>/<clip-id>.mp4 (UTC day of the id)."""
    return _day_key(device_id, clip, ".mp4")


def parse_clip_key(key: str) -> tuple[str, str] | None:
    """(device id, clip id) of a well-formed clip key (the inverse of `clip_key`), else None."""
    return _parse_day_key(key, ".mp4", is_clip_id)


def bundle_key(device_id: str, visit_id: str) -> str:
    """Where a visit's bundle goes: clips/<device-id>/<YYYY>/<MM>/<DD>/<visit-id>.zip (UTC day of the visit id),
    under the device's own clips prefix, so the clips' lifecycle rule expires it with them."""
    return _day_key(device_id, visit_id, ".zip")


def parse_bundle_key(key: str) -> tuple[str, str] | None:
    """(device id, visit id) of a well-formed bundle key (the inverse of `bundle_key`), else None."""
    return _parse_day_key(key, ".zip", is_visit_id)


FOOTAGE_BUNDLE_PREFIX = "footage-"  # a footage request's bundle: footage-<request-id>.zip, beside visit bundles


def footage_key(device_id: str, request_id: str) -> str:
    """Where a footage request's bundle goes: clips/<device-id>/<YYYY>/<MM>/<DD>/footage-<request-id>.zip (UTC day of
    the request id, a visit-like id), under the device's own clips prefix and so expired with its clips."""
    day = _day_key(device_id, request_id, ".zip")
    folder, name = day.rsplit("/", 1)
    return f"{folder}/{FOOTAGE_BUNDLE_PREFIX}{name}"


def parse_footage_key(key: str) -> tuple[str, str] | None:
    """(device id, request id) of a well-formed footage bundle key (the inverse of `footage_key`), else None."""
    folder, _, name = key.rpartition("/")
    if not name.startswith(FOOTAGE_BUNDLE_PREFIX):
        return None
    parsed = _parse_day_key(f"{folder}/{name[len(FOOTAGE_BUNDLE_PREFIX):]}", ".zip", is_visit_id)
    return parsed if parsed is not None and footage_key(*parsed) == key else None


def parse_any_bundle_key(key: str) -> tuple[str, str] | None:
    """(device id, visit or request id) of a visit's bundle key or a footage request's: both are ZIPs of clips."""
    return parse_bundle_key(key) or parse_footage_key(key)


def bundle_member(clip: str) -> str:
    """The name of a clip's MP4 inside a visit bundle."""
    return f"{clip}.mp4"
