"""API Gateway proxy responses: JSON bodies, one error shape."""
from __future__ import annotations

import json
from typing import Any


def json_response(status: int, payload: dict[str, Any]) -> dict[str, Any]:
    """A proxy response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "isBase64Encoded": False,
        "body": json.dumps(payload, default=_jsonable),
    }


def error_response(status: int, error: str, message: str) -> dict[str, Any]:
    """The API's error shape: `{error, message}`."""
    return json_response(status, {"error": error, "message": message})


def _jsonable(value: Any) -> Any:
    # DynamoDB numbers arrive as Decimal.
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
