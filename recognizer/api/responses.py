"""API Gateway proxy responses: JSON bodies (the contract's codec), one error shape."""
from __future__ import annotations

from typing import Any

from facegate_contract.wire import ErrorBody, encode


def json_response(status: int, payload: Any) -> dict[str, Any]:
    """A proxy response with a JSON body (a wire object, or plain data; DynamoDB's Decimals become numbers)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "isBase64Encoded": False,
        "body": encode(payload).decode("utf-8"),
    }


def error_response(status: int, error: str, message: str) -> dict[str, Any]:
    """The API's error shape: `{error, message}`."""
    return json_response(status, ErrorBody(error=error, message=message))
