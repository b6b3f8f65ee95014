"""Footage requests: the console asks a device for the clips it kept on the device (an empty doorway) in a time range;
the device polls for its open requests (POST /footage-requests), uploads what it still keeps as one bundle under
its own prefix, and answers (POST /footage-results).

One item per request in the sightings table under the partition `#footage`, keyed by the console's request id (a
UTC stamp first, so the device's poll reads one day of requests at most: those older read as expired). A device
sees and answers only its own requests (403 otherwise); an answer names the request's own bundle key only.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from facegate_contract import FOOTAGE_PARTITION, FOOTAGE_REQUEST_EXPIRES_S, error_code, footage_key, utc_stamp
from facegate_contract.items import PERSON_KEY, SEEN_AT_KEY, footage_request_state, plain_json
from facegate_contract.wire import (REQUESTED, UPLOADED, FootageAsk, FootageRequests, FootageRequestState,
                                    FootageResult)
from recognizer.api.event import RequestError

log = logging.getLogger(__name__)

MAX_OPEN = 100  # the answer's bound (FootageRequests.requests): the oldest first, the rest on the next poll


class FootageLog:
    """Reads and answers footage requests in the sightings table, for the calling device only."""

    def __init__(self, table: Any, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._clock = clock

    def open_for(self, device: str) -> FootageRequests:
        """The device's requests still `requested` and not expired, oldest first (one query over the last day)."""
        since = utc_stamp(self._clock() - FOOTAGE_REQUEST_EXPIRES_S)  # ids start with their stamp: one day's read
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key(PERSON_KEY).eq(FOOTAGE_PARTITION) & Key(SEEN_AT_KEY).gte(since),
            "FilterExpression": Attr("device").eq(device) & Attr("status").eq(REQUESTED),
        }
        asks: list[FootageAsk] = []
        now = self._clock()
        while len(asks) < MAX_OPEN:
            page = self._table.query(**kwargs)
            for item in map(plain_json, page.get("Items", [])):
                if footage_request_state(item, now).status != REQUESTED:
                    continue  # expired at the edge of the day the query reads
                asks.append(FootageAsk(request_id=item[SEEN_AT_KEY], from_at=float(item["from_at"]),
                                       to_at=float(item["to_at"]), key=footage_key(device, item[SEEN_AT_KEY])))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return FootageRequests(requests=asks[:MAX_OPEN])

    def answer(self, device: str, result: FootageResult) -> FootageRequestState:
        """Record the device's answer (one conditional write: only a request still `requested` changes); the same
        answer again is its state (a retry); 404 unknown, 403 another device's, 400 a key not the request's own,
        409 answered otherwise before."""
        item = self._item(result.request_id)
        if item.get("device") != device:
            raise RequestError(403, "not_your_request", "this footage request belongs to another device")
        if result.key is not None and result.key != footage_key(device, result.request_id):
            raise RequestError(400, "bad_footage_key", "the bundle key is not this request's: use the key it names")
        now = self._clock()
        values: dict[str, Any] = {":s": result.status, ":requested": REQUESTED, ":t": Decimal(str(round(now, 3)))}
        update = "SET #s = :s, answered_at_s = :t"
        if result.status == UPLOADED:
            update += ", #k = :k, clips = :c"
            values |= {":k": result.key, ":c": list(result.clips)}
        try:
            self._table.update_item(
                Key={PERSON_KEY: FOOTAGE_PARTITION, SEEN_AT_KEY: result.request_id}, UpdateExpression=update,
                ConditionExpression="#s = :requested",
                ExpressionAttributeNames={"#s": "status", **({"#k": "key"} if result.status == UPLOADED else {})},
                ExpressionAttributeValues=values)
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            state = footage_request_state(self._item(result.request_id), now)
            if state.status == result.status and state.key == result.key:
                return state  # answered before (a retry after a lost answer)
            raise RequestError(409, "already_answered", f"this footage request is {state.status} already") from exc
        log.info("footage request answered", extra={"request_id": result.request_id, "device": device,
                                                    "status": result.status, "clips": len(result.clips)})
        return footage_request_state(self._item(result.request_id), now)

    def _item(self, request_id: str) -> dict[str, Any]:
        item = self._table.get_item(Key={PERSON_KEY: FOOTAGE_PARTITION, SEEN_AT_KEY: request_id},
                                    ConsistentRead=True).get("Item")
        if item is None:
            raise RequestError(404, "no_such_request", "no footage request with this id")
        return dict(item)
