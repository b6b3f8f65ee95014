"""Footage requests as the console makes and reads them: the sightings table's `#footage` partition, which devices
poll and answer through the API (recognizer.control.footage_requests).

A request asks one device for the clips it kept on the device (an empty doorway: they never went to S3) whose
recording started in [from_at, to_at], at most FOOTAGE_MAX_RANGE_S long. Its state is `requested` until the device
answers `uploaded` (a bundle under its own prefix, `key`, holding `clips`) or `nothing_kept`; one nobody answered
within FOOTAGE_REQUEST_EXPIRES_S reads `expired` (the device no longer sees it). Items expire with the sightings.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from facegate_contract import (FOOTAGE_MAX_RANGE_S, FOOTAGE_PARTITION, clip_key, footage_key, is_device_id,
                               is_visit_id, plain_json, stamped_id)
from facegate_contract.items import PERSON_KEY, SEEN_AT_KEY, footage_request_state
from facegate_contract.wire import REQUESTED, UPLOADED, FootageRequestState

log = logging.getLogger(__name__)

RETENTION_S = 30 * 86400  # like the clips' and sightings' default retention: the record goes with its bundle


class FootageRequestError(ValueError):
    """A footage request that cannot be made: an unknown device id, a range backwards, too long or in the future."""


@dataclass(frozen=True)
class FootageRequestRecord:
    """One footage request: which device, which range, who asked when, and its state now."""

    request_id: str
    device: str
    from_at: float
    to_at: float
    asked_by: str
    requested_at_s: float
    state: FootageRequestState
    clips: tuple[str, ...] = ()
    visit_id: str = ""  # the visit it was asked from ("footage around this visit"), if any

    @classmethod
    def from_item(cls, item: dict[str, Any], now: float) -> FootageRequestRecord:
        """From a DynamoDB item of the `#footage` partition, its state as of `now`."""
        data = plain_json(item)
        return cls(request_id=data[SEEN_AT_KEY], device=data.get("device", ""), from_at=float(data["from_at"]),
                   to_at=float(data["to_at"]), asked_by=data.get("asked_by", ""),
                   requested_at_s=float(data["requested_at_s"]), state=footage_request_state(data, now),
                   clips=tuple(data.get("clips") or ()), visit_id=data.get("visit_id", ""))

    @property
    def clip_keys(self) -> list[str]:
        """Where each clip of an uploaded request would be as an object of its own (the console finds it in
        `state.key`, the request's bundle)."""
        return [clip_key(self.device, clip) for clip in self.clips] if self.state.status == UPLOADED else []


def request_footage(table: Any, device: str, from_at: float, to_at: float, asked_by: str, now: float,
                    visit_id: str = "") -> FootageRequestRecord:
    """Store a new request for `device`'s kept clips of [from_at, to_at]; FootageRequestError for bad input."""
    if not is_device_id(device):
        raise FootageRequestError("not a device id")
    if not 0 < to_at - from_at <= FOOTAGE_MAX_RANGE_S:
        raise FootageRequestError(f"the range must end after it starts and last at most {FOOTAGE_MAX_RANGE_S} s")
    if from_at > now:
        raise FootageRequestError("the range starts in the future: nothing is recorded there yet")
    request_id = stamped_id(now)
    item: dict[str, Any] = {
        PERSON_KEY: FOOTAGE_PARTITION, SEEN_AT_KEY: request_id, "device": device, "status": REQUESTED,
        "from_at": Decimal(str(round(from_at, 3))), "to_at": Decimal(str(round(to_at, 3))),
        "asked_by": asked_by, "requested_at_s": Decimal(str(round(now, 3))), "expires_at": int(now + RETENTION_S)}
    if visit_id:
        item["visit_id"] = visit_id
    table.put_item(Item=item, ConditionExpression="attribute_not_exists(person)")
    log.info("footage requested", extra={"request_id": request_id, "device": device, "from_at": from_at,
                                         "to_at": to_at, "asked_by": asked_by, "key": footage_key(device, request_id)})
    return FootageRequestRecord.from_item(item, now)


def list_footage_requests(table: Any, now: float, limit: int = 50) -> list[FootageRequestRecord]:
    """The newest footage requests first (request ids start with their UTC stamp)."""
    page = table.query(KeyConditionExpression=Key(PERSON_KEY).eq(FOOTAGE_PARTITION), ScanIndexForward=False,
                       Limit=limit)
    return [FootageRequestRecord.from_item(item, now) for item in page.get("Items", [])]


def get_footage_request(table: Any, request_id: str, now: float) -> FootageRequestRecord | None:
    """One footage request by id, or None (also for a string that is not a request id)."""
    if not is_visit_id(request_id):
        return None
    item = table.get_item(Key={PERSON_KEY: FOOTAGE_PARTITION, SEEN_AT_KEY: request_id},
                          ConsistentRead=True).get("Item")
    return FootageRequestRecord.from_item(item, now) if item else None
