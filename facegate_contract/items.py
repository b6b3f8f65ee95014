"""The tables' key names, and how their items read back.

people     PERSON_KEY (a First_Last label)                          → the person's details
sightings  PERSON_KEY (a label, unknown, VISIT_PARTITION, DOOR_PARTITION or FOOTAGE_PARTITION) + SEEN_AT_KEY
           (a time-sorted id) → a sighting, a visit, a door request (confirm mode) or a footage request
devices    KEY_HASH_KEY (the SHA-256 of an API key)                  → the device id
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from facegate_contract.api import FOOTAGE_REQUEST_EXPIRES_S
from facegate_contract.naming import clip_key, parse_clip_key
from facegate_contract.wire import (APPROVED, DENIED, EXPIRED, PENDING, REQUESTED, DoorRequestState,
                                    FootageRequestState)


PERSON_KEY = "person"
SEEN_AT_KEY = "seen_at"
KEY_HASH_KEY = "key_hash"
# A visit item names its clips by id (its `device` turns them back into keys): half the bytes of full keys, and a
# visit report is billed by the kilobyte. Items written before name them by key (`keys`, a vote's `key`).
VISIT_CLIP_IDS = "clip_ids"
VOTE_CLIP_ID = "clip"


# ---- the tables' items -----------------------------------------------------------------------------------------------
def plain_json(value: Any) -> Any:
    """A DynamoDB value as plain JSON types: its numbers (Decimal) as int or float, through lists and maps."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    return value


def door_request_state(item: Mapping[str, Any], now: float) -> DoorRequestState:
    """A stored door request as the device and the console read it: still pending past its expiry is `expired`
    (nothing rewrites it), so an approval can only ever be read before the request's `expires_at_s`."""
    status = str(item.get("status", PENDING))
    expires_at = float(item["expires_at_s"])
    if status not in (APPROVED, DENIED):
        status = EXPIRED if now >= expires_at else PENDING
    decided = item.get("decided_at_s")
    return DoorRequestState(request_id=str(item[SEEN_AT_KEY]), status=status,  # type: ignore[arg-type]
                            expires_at=expires_at, decided_at=float(decided) if decided is not None else None)


def footage_request_state(item: Mapping[str, Any], now: float) -> FootageRequestState:
    """A stored footage request as the device and the console read it: still `requested` FOOTAGE_REQUEST_EXPIRES_S
    after it was made reads as `expired` (nothing rewrites it; the device no longer sees it)."""
    status = str(item.get("status", REQUESTED))
    if status == REQUESTED and now >= float(item["requested_at_s"]) + FOOTAGE_REQUEST_EXPIRES_S:
        status = EXPIRED
    key = item.get("key")
    return FootageRequestState(request_id=str(item[SEEN_AT_KEY]), status=status,  # type: ignore[arg-type]
                               key=str(key) if key else None, clips=len(item.get("clips") or []))


def visit_clip_id(key: str, device: str) -> str | None:
    """The clip id a visit item stores for `key`, one of `device`'s clip keys; None for any other key."""
    parsed = parse_clip_key(key)
    return parsed[1] if parsed is not None and parsed[0] == device else None


def visit_clips(item: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """A stored visit item's clip keys and its evidence votes, each vote with its clip's `key` (the item stores clip
    ids, which its `device` turns back into keys; an item written before stores the keys themselves)."""
    device = str(item.get("device", ""))
    if VISIT_CLIP_IDS in item:
        keys = [clip_key(device, str(clip)) for clip in item[VISIT_CLIP_IDS]]
    else:
        keys = [str(key) for key in item.get("keys", [])]
    evidence = []
    for stored in item.get("evidence", []):
        vote = {name: value for name, value in stored.items() if name != VOTE_CLIP_ID}
        if VOTE_CLIP_ID in stored:
            vote["key"] = clip_key(device, str(stored[VOTE_CLIP_ID]))
        evidence.append(vote)
    return keys, evidence
