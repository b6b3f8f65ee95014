"""Write every recognised face to DynamoDB `sightings`: who, when, which device and clip, with an expiry.

A frame sent again for the same clip (the device crashed after the answer, before it saved it) writes the same
items again, not new ones: a sighting of a clip is keyed by the clip's recording time, its id and the face's
place in the answer. A failed write is retried once, then logged: the recognition answer matters more than its
log line, so a DynamoDB fault never fails the request.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from facegate_contract import parse_clip_key
from facegate_contract.items import PERSON_KEY, SEEN_AT_KEY

if TYPE_CHECKING:  # the control function stores visit reports with this module's keys, without numpy
    from recognizer.faces import RecognizedFace

log = logging.getLogger(__name__)

DAY_S = 86400


def iso_utc(epoch_s: float) -> str:
    """ISO-8601 UTC with milliseconds: sorts as text."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s)) + f".{int(epoch_s * 1000) % 1000:03d}Z"


def clip_sighting_key(device: str, clip: str, face_index: int) -> str:
    """The sort key of a clip's face: the clip's recording time (ISO, from its id), the device and clip id, the
    face's place. Clip ids are only unique per device (a stamp and a counter): with the device in the key, a
    device that names another's clip id writes its own item, never that device's."""
    stamp = clip.split("-", 1)[0]  # 20261123T231158.500Z
    iso = f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:]}"
    return f"{iso}#{device}/{clip}#{face_index}"


def seen_at_stamp(now: float) -> str:
    """ISO-8601 UTC with milliseconds plus a short random suffix: a sort key unique per face."""
    return f"{iso_utc(now)}#{uuid.uuid4().hex[:8]}"


class SightingsLog:
    """One item per face: partition = person (or "unknown"), sort = ISO time + short id; expires after
    `retention_days` (DynamoDB TTL on `expires_at`), like the clips."""

    def __init__(self, table: Any, retention_days: int = 30, clock: Callable[[], float] = time.time,
                 attempts: int = 2) -> None:
        self._table = table
        self._retention_s = retention_days * DAY_S
        self._clock = clock
        self._attempts = attempts

    def record(self, faces: list[RecognizedFace], device: str, clip_key: str, model_version: str) -> list[str | None]:
        """Write the faces; returns each face's sighting id (its sort key), None where the write failed."""
        now = self._clock()
        ids: list[str | None] = []
        clip = parse_clip_key(clip_key)
        for index, face in enumerate(faces):
            item = {
                PERSON_KEY: face.identity.name,
                SEEN_AT_KEY: clip_sighting_key(device, clip[1], index) if clip else seen_at_stamp(now),
                "device": device,
                "clip_key": clip_key,
                "confidence": Decimal(str(round(face.identity.confidence, 4))),
                "model_version": model_version,
                "expires_at": int(now + self._retention_s),
            }
            ids.append(str(item[SEEN_AT_KEY]) if self._put(item) else None)
        return ids

    def _put(self, item: dict[str, Any]) -> bool:
        for attempt in range(1, self._attempts + 1):
            try:
                # Only this device's item may be rewritten (a frame sent again): never another device's.
                self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(seen_at) OR device = :d",
                                     ExpressionAttributeValues={":d": item["device"]})
                return True
            except Exception as exc:  # noqa: BLE001 - any DynamoDB or network fault
                if attempt == self._attempts:
                    log.error("sighting write failed; answer sent without it",
                              extra={"label": item[PERSON_KEY], "attempts": attempt, "error": repr(exc)[:300]})
        return False
