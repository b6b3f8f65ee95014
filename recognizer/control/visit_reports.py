"""Visits a device reports (POST /visits): one summary item per visit.

The device decides visits (it opens the door); the Lambda keeps the record: a summary item in the sightings table
under the partition `#visit`, keyed by the visit id (it starts with a UTC stamp, so items sort by start time and
`facegate sightings` and the console query a time range), listing the visit's clips (the calling device's own
only, by clip id: facegate_contract.items.visit_clips reads them back as keys); a visit's sightings are those of its
clip keys. It expires with the clips. A report may come several times
for a visit (decided, then ended): the latest wins, and what the console added (a review) stays.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from facegate_contract import UNKNOWN, VISIT_PARTITION, error_code
from facegate_contract.wire import Box, EvidenceVote, VisitReport, VisitStored
from facegate_contract.items import PERSON_KEY, SEEN_AT_KEY, VISIT_CLIP_IDS, VOTE_CLIP_ID, visit_clip_id
from recognizer.api.device_identity import require_own_clip
from recognizer.api.event import RequestError
from recognizer.recognize.sightings_log import DAY_S, iso_utc

log = logging.getLogger(__name__)

MAX_CLIPS = 240  # two minutes of 0.5 s clips: a longer visit keeps its latest clips
MAX_EVIDENCE = 60


def _own_clip_ids(keys: list[str], device: str, what: str) -> list[str]:
    """The clip ids of `keys`: 403 for another device's key, 400 for a key that is not a clip's."""
    ids = []
    for key in keys:
        require_own_clip(key, device, f"{what}: a device may report only its own clips")
        clip = visit_clip_id(key, device)
        if clip is None:
            raise RequestError(400, "bad_visit", f"{what}: {key!r} is not a clip key (clips/<device>/<day>/<id>.mp4)")
        ids.append(clip)
    return ids


def _box(box: Box | None) -> dict[str, Decimal] | None:
    if box is None:
        return None
    return {k: Decimal(str(round(getattr(box, k), 1))) for k in ("x1", "y1", "x2", "y2")}


def _decimal(value: float | None, digits: int = 4) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, digits)))


def visit_item(device: str, report: VisitReport, expires_at: int) -> dict[str, Any]:
    """The `#visit` item a report of `device` leaves (None: an attribute the report no longer has): 403 for another
    device's clips or bundle, 400 for a key that is not a clip's."""
    clips = _own_clip_ids(report.keys[-MAX_CLIPS:], device, "keys")
    evidence = report.evidence[-MAX_EVIDENCE:]
    votes = _own_clip_ids([vote.key for vote in evidence], device, "evidence")
    if report.bundle is not None:
        require_own_clip(report.bundle, device, "bundle: a device may report only its own bundle")
    return {
        PERSON_KEY: VISIT_PARTITION,
        SEEN_AT_KEY: report.visit_id,  # starts with the visit's UTC stamp: sorts by start, the same key every time
        "device": device,
        "started_at": iso_utc(report.first_at),
        "ended_at": iso_utc(report.last_at),
        "duration_s": _decimal(report.last_at - report.first_at, 2),
        "decision": report.decision,
        "confidence": _decimal(report.confidence),
        "agreeing": report.agreeing,
        "clips": len(clips),
        VISIT_CLIP_IDS: clips,
        "conflicts": [name for name in report.conflicts if name != UNKNOWN][:10],
        "ended": report.ended,
        "bundle": report.bundle,  # where the clips not uploaded alone are (None: removed, none named)
        "evidence": [{VOTE_CLIP_ID: clip, "name": vote.name, "confidence": _decimal(vote.confidence),
                      "box": _box(vote.box), "at": _decimal(vote.at, 3)} for clip, vote in zip(votes, evidence)],
        "expires_at": expires_at,
    }


class VisitReports:
    """Stores visit reports in the sightings table."""

    def __init__(self, table: Any, retention_days: int = 30, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._retention_s = retention_days * DAY_S
        self._clock = clock

    def report(self, device: str, report: VisitReport) -> VisitStored:
        """Store one report (the contract's VisitReport has checked its shape); returns what was stored."""
        item = visit_item(device, report, expires_at=int(self._clock() + self._retention_s))
        # One write a report. The visit's sightings are not tagged with it: each sighting carries its clip key and the
        # visit item lists its clips, so the link is there without a write per sighting (most of a visit's DynamoDB
        # bill).
        self._store(item)
        log.info("visit reported", extra={"visit_id": report.visit_id, "device": device, "decision": report.decision,
                                          "clips": item["clips"]})
        return VisitStored(visit_id=report.visit_id, stored=True, clips=item["clips"])

    def _store(self, item: dict[str, Any]) -> None:
        """Write the report's attributes onto the visit's item, leaving the rest alone (a console review made before
        the visit ended must survive the final report); an attribute the report no longer has is removed."""
        key = {k: item[k] for k in (PERSON_KEY, SEEN_AT_KEY)}
        attributes = [(k, v) for k, v in item.items() if k not in key]
        names = {f"#a{i}": k for i, (k, _) in enumerate(attributes)}
        values = {f":v{i}": without_nones(v) for i, (_, v) in enumerate(attributes) if v is not None}
        expression = "SET " + ", ".join(f"#a{i} = :v{i}" for i, (_, v) in enumerate(attributes) if v is not None)
        removed = [f"#a{i}" for i, (_, v) in enumerate(attributes) if v is None]
        if removed:
            expression += " REMOVE " + ", ".join(removed)
        names["#owner"], values[":owner"] = "device", item["device"]
        try:
            # A visit id is the device's: another device naming it is refused, the record stays as it was.
            self._table.update_item(Key=key, UpdateExpression=expression, ExpressionAttributeNames=names,
                                    ExpressionAttributeValues=values,
                                    ConditionExpression="attribute_not_exists(person) OR #owner = :owner")
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise RequestError(403, "not_your_visit", "this visit id belongs to another device") from exc
            raise


def without_nones(value: Any) -> Any:
    """A value as DynamoDB stores it here: the None entries of its maps (at any depth) left out."""
    if isinstance(value, dict):
        return {k: without_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nones(v) for v in value]
    return value
