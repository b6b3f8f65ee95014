"""Door requests (confirm mode): the device files one when its door rule would open, and polls it; an operator
approves or denies it in the console (facegate_cli.console) before it expires.

One item per request in the sightings table under the partition `#door`, keyed by the request id the device made.
The request id is the device's: filing it again answers its state, another device naming it gets a 403. The state
is read back as the contract's DoorRequestState; a pending request past its expiry reads as `expired` (nothing
needs to rewrite it), and the device opens only on `approved`.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from facegate_contract import DOOR_PARTITION, error_code
from facegate_contract.items import PERSON_KEY, SEEN_AT_KEY, door_request_state
from facegate_contract.wire import PENDING, DoorRequest, DoorRequestState
from recognizer.api.device_identity import require_own_clip
from recognizer.api.event import RequestError
from recognizer.recognize.sightings_log import DAY_S, iso_utc

log = logging.getLogger(__name__)


class DoorRequests:
    """Files and reads door requests in the sightings table, for the calling device only."""

    def __init__(self, table: Any, retention_days: int = 30, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._retention_s = retention_days * DAY_S
        self._clock = clock

    def file(self, device: str, request: DoorRequest) -> DoorRequestState:
        """Store a new request (pending until an operator decides or it expires); the same id again answers its
        state; 403 when the id or the clip is another device's."""
        if request.clip_key is not None:
            require_own_clip(request.clip_key, device, "a door request may show only the device's own clips")
        now = self._clock()
        item = {PERSON_KEY: DOOR_PARTITION, SEEN_AT_KEY: request.request_id, "device": device,
                "visit_id": request.visit_id, "name": request.name, "status": PENDING,
                "requested_at": iso_utc(now), "requested_at_s": Decimal(str(round(now, 3))),
                "expires_at_s": Decimal(str(round(now + request.expires_in, 3))),
                "expires_at": int(now + self._retention_s)}
        if request.clip_key is not None:
            item["clip_key"] = request.clip_key
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(person)")
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return self.state(device, request.request_id)  # filed before (a retry): its state, if it is ours
        log.info("door request filed", extra={"request_id": request.request_id, "device": device,
                                              "visit_id": request.visit_id, "door_name": request.name,
                                              "expires_in_s": request.expires_in})
        return door_request_state(item, now)

    def state(self, device: str, request_id: str) -> DoorRequestState:
        """The state of one of the device's requests; 404 when there is none, 403 when it is another device's."""
        item = self._table.get_item(Key={PERSON_KEY: DOOR_PARTITION, SEEN_AT_KEY: request_id},
                                    ConsistentRead=True).get("Item")
        if item is None:
            raise RequestError(404, "no_such_request", "no door request with this id")
        if item.get("device") != device:
            raise RequestError(403, "not_your_request", "this door request belongs to another device")
        return door_request_state(item, self._clock())
