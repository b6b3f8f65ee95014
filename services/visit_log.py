"""Read the visits devices reported (the sightings table's `#visit` partition): the query behind
`facegate sightings` and the console's timeline."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from facegate_contract import VISIT_PARTITION, plain_json
from facegate_contract.items import PERSON_KEY, SEEN_AT_KEY, visit_clips

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ABSOLUTE = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


class SinceError(ValueError):
    """A --since value that is neither a duration nor a UTC date."""

    friendly = True
    exit_code = 2


def since_epoch(value: str, now: float | None = None) -> float:
    """`30m`, `2h`, `7d` (ago) or a UTC date `2026-11-29[THH:MM[:SS]]` as epoch seconds."""
    now = time.time() if now is None else now
    relative = _RELATIVE.match(value.strip())
    if relative:
        return now - float(relative.group(1)) * _UNIT_S[relative.group(2)]
    for fmt in _ABSOLUTE:
        try:
            return float(time.mktime(time.strptime(value.strip().rstrip("Z"), fmt)) - time.timezone)
        except ValueError:
            continue
    raise SinceError(f"--since {value!r}: give a duration like 30m, 2h, 7d or a UTC date like 2026-11-29T10:00")


def visit_key_at(epoch_s: float) -> str:
    """The visit-id prefix of a moment: visit ids start with their UTC stamp, so this bounds a time range."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(epoch_s)) + f".{int(epoch_s * 1000) % 1000:03d}Z"


@dataclass(frozen=True)
class VisitRecord:
    """One visit as its device last reported it."""

    visit_id: str
    device: str
    started_at: str
    ended_at: str
    duration_s: float
    decision: str
    confidence: float | None
    clips: int
    keys: list[str]
    conflicts: list[str]
    ended: bool
    evidence: list[dict[str, Any]] = field(default_factory=list)
    review: str = ""  # set by the console: "ignored", or the label a stranger was enrolled as
    door_request: dict[str, Any] = field(default_factory=dict)  # confirm mode: the operator's decision, when made
    bundle: str = ""  # the visit's bundle (one ZIP of its clips not uploaded alone); "" when its clips went alone

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> VisitRecord:
        """From a DynamoDB item of the `#visit` partition."""
        data = plain_json(item)
        keys, evidence = visit_clips(data)
        # The id is the item's sort key (items written before also kept it as `visit_id`).
        return cls(visit_id=data[SEEN_AT_KEY], device=data.get("device", ""), started_at=data.get("started_at", ""),
                   ended_at=data.get("ended_at", ""), duration_s=float(data.get("duration_s", 0)),
                   decision=data.get("decision", ""), confidence=data.get("confidence"),
                   clips=int(data.get("clips", 0)), keys=keys,
                   conflicts=list(data.get("conflicts", [])), ended=bool(data.get("ended", False)),
                   evidence=evidence, review=data.get("review", ""),
                   door_request=dict(data.get("door_request") or {}), bundle=str(data.get("bundle") or ""))

    @property
    def best_key(self) -> str:
        """The clip with the decision's most confident face (else the first clip)."""
        matching = [e for e in self.evidence if e.get("name") == self.decision and e.get("key")]
        if matching:
            return max(matching, key=lambda e: e.get("confidence") or 0)["key"]
        return self.keys[0] if self.keys else ""


def _visit_range(since: float | None, before: str | None) -> Any:
    """The key condition of visits from `since` (epoch) on and, when given, with ids before `before`."""
    condition = Key(PERSON_KEY).eq(VISIT_PARTITION)
    low = visit_key_at(since) if since is not None else None
    if low is not None and before is not None:
        return condition & Key(SEEN_AT_KEY).between(low, before)  # inclusive: `before` itself is dropped after
    if before is not None:
        return condition & Key(SEEN_AT_KEY).lt(before)
    if low is not None:
        return condition & Key(SEEN_AT_KEY).gte(low)
    return condition


def list_visits(table: Any, *, since: float | None = None, device: str | None = None, name: str | None = None,
                limit: int = 200) -> list[VisitRecord]:
    """The newest visits first, from `since` (epoch) on, of one device and/or decided as one name."""
    filters = None
    if device:
        filters = Attr("device").eq(device)
    if name:
        filters = Attr("decision").eq(name) if filters is None else filters & Attr("decision").eq(name)
    kwargs: dict[str, Any] = {"KeyConditionExpression": _visit_range(since, None), "ScanIndexForward": False}
    if filters is not None:
        kwargs["FilterExpression"] = filters
    visits: list[VisitRecord] = []
    while len(visits) < limit:
        page = table.query(**kwargs)
        visits.extend(VisitRecord.from_item(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return visits[:limit]


@dataclass(frozen=True)
class VisitPage:
    """One page of the history, newest first, and where the next (older) page starts."""

    visits: list[VisitRecord]
    older: str | None  # pass as `before` for the next page; None when nothing older is left


def page_visits(table: Any, *, since: float | None = None, before: str | None = None,
                keep: Callable[[VisitRecord], bool] | None = None, limit: int = 50,
                max_read: int = 2000) -> VisitPage:
    """Up to `limit` visits, newest first, from `since` on and older than the visit id `before`, that `keep`
    accepts (any test: DynamoDB filters are exact and case-sensitive). Reads at most `max_read` visits: past that,
    the page is shorter and `older` continues from the last one read."""
    kwargs: dict[str, Any] = {"KeyConditionExpression": _visit_range(since, before), "ScanIndexForward": False}
    visits: list[VisitRecord] = []
    read = 0
    last_read: str | None = None
    while True:
        page = table.query(**kwargs)
        for item in page.get("Items", []):
            visit = VisitRecord.from_item(item)
            if visit.visit_id == before:
                continue
            read += 1
            last_read = visit.visit_id
            if keep is None or keep(visit):
                visits.append(visit)
                if len(visits) > limit:  # one more than shown: older ones exist
                    return VisitPage(visits[:limit], visits[limit - 1].visit_id)
            if read >= max_read:
                return VisitPage(visits, last_read)
        if "LastEvaluatedKey" not in page:
            return VisitPage(visits, None)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get_visit(table: Any, visit_id: str) -> VisitRecord | None:
    """One visit by id, or None."""
    item = table.get_item(Key={PERSON_KEY: VISIT_PARTITION, SEEN_AT_KEY: visit_id}).get("Item")
    return VisitRecord.from_item(item) if item else None


def set_review(table: Any, visit_id: str, review: str) -> None:
    """Mark a visit as reviewed in the console ("ignored", or the label its stranger was enrolled as)."""
    table.update_item(Key={PERSON_KEY: VISIT_PARTITION, SEEN_AT_KEY: visit_id}, UpdateExpression="SET review = :r",
                      ConditionExpression=f"attribute_exists({PERSON_KEY})",  # the visit is there
                      ExpressionAttributeValues={":r": review})
