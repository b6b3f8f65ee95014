"""Visits a device reports (POST /visits): one summary item per visit, and the visit id on its sightings.

The device decides visits (it opens the door); the Lambda keeps the record: a summary item in the sightings table
under the partition `#visit`, keyed by the visit id (it starts with a UTC stamp, so items sort by start time and
`facegate sightings` and the console query a time range), and the visit id set on every sighting the report names,
only on the calling device's own sightings. Both expire with the clips. A report may come several times for a
visit (decided, then ended): the latest wins, and what the console added (a review) stays.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from facegate_contract import (UNDECIDED, UNKNOWN, VISIT_ID_RE, VISIT_PARTITION, device_clips_prefix, is_label,
                               parse_clip_key)
from recognizer.api_event import RequestError
from recognizer.sightings_log import DAY_S, iso_utc

log = logging.getLogger(__name__)

MAX_CLIPS = 240  # two minutes of 0.5 s clips: a longer visit keeps its latest clips
MAX_EVIDENCE = 60
MAX_SIGHTINGS = 60


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RequestError(400, "bad_visit", f"{what} must be a number")
    return float(value)


def _label(value: Any, what: str, allowed: tuple[str, ...] = (UNKNOWN,)) -> str:
    if not isinstance(value, str) or not (value in allowed or is_label(value)):
        raise RequestError(400, "bad_visit", f"{what} must be a First_Last label or one of {', '.join(allowed)}")
    return value


def _own_keys(values: Any, device: str, what: str, limit: int) -> list[str]:
    if not isinstance(values, list):
        raise RequestError(400, "bad_visit", f"{what} must be a list of clip keys")
    keys = [k for k in values if isinstance(k, str)]
    for key in keys:
        if parse_clip_key(key) is None or not key.startswith(device_clips_prefix(device)):
            raise RequestError(403, "not_your_clip", f"{what}: a device may report only its own clips")
    return keys[-limit:]


def _box(raw: Any) -> dict[str, Decimal] | None:
    if not isinstance(raw, dict):
        return None
    try:
        return {k: Decimal(str(round(float(raw[k]), 1))) for k in ("x1", "y1", "x2", "y2")}
    except (KeyError, TypeError, ValueError):
        return None


def _decimal(value: float | None, digits: int = 4) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, digits)))


class VisitReports:
    """Stores visit reports in the sightings table."""

    def __init__(self, table: Any, retention_days: int = 30, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._retention_s = retention_days * DAY_S
        self._clock = clock

    def report(self, device: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate and store one report; returns what was stored (ids and counts)."""
        visit_id = body.get("visit_id")
        if not isinstance(visit_id, str) or not VISIT_ID_RE.match(visit_id):
            raise RequestError(400, "bad_visit", "visit_id must look like 20261123T231158.500Z-1a2b3c4d")
        first_at, last_at = _number(body.get("first_at"), "first_at"), _number(body.get("last_at"), "last_at")
        if last_at < first_at:
            raise RequestError(400, "bad_visit", "last_at is before first_at")
        decision = _label(body.get("decision", UNDECIDED), "decision", (UNKNOWN, UNDECIDED))
        keys = _own_keys(body.get("keys", []), device, "keys", MAX_CLIPS)
        evidence = [e for e in body.get("evidence", []) if isinstance(e, dict)][-MAX_EVIDENCE:]
        evidence_keys = _own_keys([e.get("key") for e in evidence], device, "evidence", MAX_EVIDENCE)
        conflicts = [_label(n, "conflicts") for n in body.get("conflicts", []) if n != UNKNOWN][:10]
        item = {
            "person": VISIT_PARTITION,
            "seen_at": visit_id,  # starts with the visit's UTC stamp: sorts by start, the same key at every report
            "visit_id": visit_id,
            "device": device,
            "started_at": iso_utc(first_at),
            "ended_at": iso_utc(last_at),
            "duration_s": _decimal(last_at - first_at, 2),
            "decision": decision,
            "confidence": _decimal(body.get("confidence") if isinstance(body.get("confidence"), (int, float)) else None),
            "agreeing": int(_number(body.get("agreeing", 0), "agreeing")),
            "clips": len(keys),
            "keys": keys,
            "conflicts": conflicts,
            "ended": bool(body.get("ended", False)),
            "evidence": [{"key": key, "name": _label(e.get("name", UNKNOWN), "evidence name"),
                          "confidence": _decimal(e.get("confidence")) if isinstance(e.get("confidence"), (int, float)) else None,
                          "box": _box(e.get("box")), "at": _decimal(e.get("at"), 3) if isinstance(e.get("at"), (int, float)) else None}
                         for e, key in zip(evidence, evidence_keys)],
            "expires_at": int(self._clock() + self._retention_s),
        }
        self._store(item)
        tagged = self._tag_sightings(device, visit_id, evidence)
        log.info("visit reported", extra={"visit_id": visit_id, "device": device, "decision": decision,
                                          "clips": len(keys), "sightings_tagged": tagged})
        return {"visit_id": visit_id, "stored": True, "clips": len(keys), "sightings_tagged": tagged}

    def _store(self, item: dict[str, Any]) -> None:
        """Write the report's attributes onto the visit's item, leaving the rest alone (a console review made before
        the visit ended must survive the final report); an attribute the report no longer has is removed."""
        key = {k: item[k] for k in ("person", "seen_at")}
        attributes = [(k, v) for k, v in item.items() if k not in key]
        names = {f"#a{i}": k for i, (k, _) in enumerate(attributes)}
        values = {f":v{i}": _without_nones(v) for i, (_, v) in enumerate(attributes) if v is not None}
        expression = "SET " + ", ".join(f"#a{i} = :v{i}" for i, (_, v) in enumerate(attributes) if v is not None)
        removed = [f"#a{i}" for i, (_, v) in enumerate(attributes) if v is None]
        if removed:
            expression += " REMOVE " + ", ".join(removed)
        self._table.update_item(Key=key, UpdateExpression=expression, ExpressionAttributeNames=names,
                                ExpressionAttributeValues=values)

    def _tag_sightings(self, device: str, visit_id: str, evidence: list[dict[str, Any]]) -> int:
        """Set the visit id on the sightings the evidence names, only where the sighting is this device's."""
        tagged = 0
        for vote in evidence[-MAX_SIGHTINGS:]:
            sighting, name = vote.get("sighting_id"), vote.get("name")
            if not isinstance(sighting, str) or not isinstance(name, str) or len(sighting) > 64:
                continue
            try:
                self._table.update_item(
                    Key={"person": name, "seen_at": sighting},
                    UpdateExpression="SET visit_id = :v",
                    ConditionExpression="attribute_exists(person) AND device = :d",
                    ExpressionAttributeValues={":v": visit_id, ":d": device})
                tagged += 1
            except Exception as exc:  # noqa: BLE001 - another device's, gone, or DynamoDB briefly down: not fatal
                log.warning("sighting not tagged with its visit", extra={"visit_id": visit_id, "sighting": sighting,
                                                                         "error": exc.__class__.__name__})
        return tagged


def _without_nones(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nones(v) for v in value]
    return value
