"""The tables' key names, and how their items read back.

people     PERSON_KEY (a First_Last label)                          → the person's details
sightings  PERSON_KEY (a label, unknown, or VISIT_PARTITION) + SEEN_AT_KEY (a time-sorted id) → a sighting or a visit
devices    KEY_HASH_KEY (the SHA-256 of an API key)                  → the device id
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any


PERSON_KEY = "person"
SEEN_AT_KEY = "seen_at"
KEY_HASH_KEY = "key_hash"


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
