"""Door requests (confirm mode) as the console reads and decides them: the sightings table's `#door` partition,
which devices file through the API (recognizer.control.door_requests).

A decision is one conditional write: only a request still pending and not yet expired becomes `approved` or
`denied`, so two operators, or an operator and the clock, can never both win. The decision is then recorded on the
visit's item (`door_request`), when the visit is there.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from facegate_contract import DOOR_PARTITION, VISIT_PARTITION, error_code, plain_json
from facegate_contract.items import PERSON_KEY, SEEN_AT_KEY, door_request_state
from facegate_contract.naming import is_visit_id
from facegate_contract.wire import APPROVED, DENIED, PENDING, DoorRequestState

log = logging.getLogger(__name__)


class DoorDecisionError(ValueError):
    """The request cannot be decided: unknown, already decided, or expired."""


@dataclass(frozen=True)
class DoorRequestRecord:
    """One door request: who asked to come in, at which device and visit, and its state now."""

    request_id: str
    device: str
    visit_id: str
    name: str
    clip_key: str
    requested_at: str
    state: DoorRequestState
    decided_by: str = ""

    @classmethod
    def from_item(cls, item: dict[str, Any], now: float) -> DoorRequestRecord:
        """From a DynamoDB item of the `#door` partition, its state as of `now`."""
        data = plain_json(item)
        return cls(request_id=data[SEEN_AT_KEY], device=data.get("device", ""), visit_id=data.get("visit_id", ""),
                   name=data.get("name", ""), clip_key=data.get("clip_key", ""),
                   requested_at=data.get("requested_at", ""), state=door_request_state(data, now),
                   decided_by=data.get("decided_by", ""))

    @property
    def pending(self) -> bool:
        """Still waiting for an operator."""
        return self.state.status == PENDING


def list_door_requests(table: Any, now: float, limit: int = 50) -> list[DoorRequestRecord]:
    """The newest door requests first (request ids start with their UTC stamp)."""
    page = table.query(KeyConditionExpression=Key(PERSON_KEY).eq(DOOR_PARTITION), ScanIndexForward=False,
                       Limit=limit)
    return [DoorRequestRecord.from_item(item, now) for item in page.get("Items", [])]


def get_door_request(table: Any, request_id: str, now: float) -> DoorRequestRecord | None:
    """One door request by id, or None (also for a string that is not a request id)."""
    if not is_visit_id(request_id):
        return None
    item = table.get_item(Key={PERSON_KEY: DOOR_PARTITION, SEEN_AT_KEY: request_id}, ConsistentRead=True).get("Item")
    return DoorRequestRecord.from_item(item, now) if item else None


def decide_door_request(table: Any, request_id: str, approve: bool, operator: str, now: float) -> DoorRequestRecord:
    """Approve or deny a pending, unexpired request; DoorDecisionError otherwise. Recorded on the visit too."""
    status = APPROVED if approve else DENIED
    if get_door_request(table, request_id, now) is None:
        raise DoorDecisionError("no such door request")
    stamp = Decimal(str(round(now, 3)))
    try:
        table.update_item(
            Key={PERSON_KEY: DOOR_PARTITION, SEEN_AT_KEY: request_id},
            UpdateExpression="SET #s = :s, decided_at_s = :t, decided_by = :by",
            ConditionExpression="#s = :pending AND expires_at_s > :t",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": status, ":t": stamp, ":by": operator, ":pending": PENDING})
    except Exception as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        current = get_door_request(table, request_id, now)
        state = current.state.status if current else "gone"
        raise DoorDecisionError(f"this door request is {state}: it can no longer be decided") from exc
    record = get_door_request(table, request_id, now)
    assert record is not None
    log.info("door request decided", extra={"request_id": request_id, "status": status, "device": record.device,
                                            "visit_id": record.visit_id, "operator": operator})
    _record_on_visit(table, record, stamp)
    return record


def _record_on_visit(table: Any, record: DoorRequestRecord, stamp: Decimal) -> None:
    """The decision on the visit's item, only when the visit is there and is the same device's."""
    try:
        table.update_item(
            Key={PERSON_KEY: VISIT_PARTITION, SEEN_AT_KEY: record.visit_id},
            UpdateExpression="SET door_request = :d",
            ConditionExpression=f"attribute_exists({PERSON_KEY}) AND device = :device",  # the visit is there
            ExpressionAttributeValues={":d": {"request_id": record.request_id, "status": record.state.status,
                                              "decided_at_s": stamp, "decided_by": record.decided_by},
                                       ":device": record.device})
    except Exception as exc:  # noqa: BLE001 - the request itself holds the decision; the visit may come later
        log.warning("door decision not recorded on the visit", extra={
            "request_id": record.request_id, "visit_id": record.visit_id, "error": error_code(exc) or repr(exc)[:200]})
