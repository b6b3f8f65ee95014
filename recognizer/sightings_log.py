"""Write every recognised face to DynamoDB `sightings`."""
from __future__ import annotations

import logging
import time
import uuid
from decimal import Decimal
from typing import Any

from recognizer.faces import RecognizedFace

log = logging.getLogger(__name__)


class SightingsLog:
    """One item per face: partition = person (or "unknown"), sort = ISO time + short id."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def record(self, faces: list[RecognizedFace], device: str, clip_key: str, model_version: str) -> int:
        """Write the faces; failures are logged, never raised (the answer matters more)."""
        written = 0
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        for face in faces:
            item = {
                "person": face.identity.name,
                "seen_at": f"{stamp}#{uuid.uuid4().hex[:8]}",
                "device": device,
                "clip_key": clip_key,
                "confidence": Decimal(str(round(face.identity.confidence, 4))),
                "model_version": model_version,
            }
            try:
                self._table.put_item(Item=item)
                written += 1
            except Exception:
                log.exception("sighting write failed", extra={"person": face.identity.name})
        return written
