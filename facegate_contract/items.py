"""How the tables' items read back."""
from __future__ import annotations

from decimal import Decimal
from typing import Any


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
