"""S3's POST policy rules, as AWS documents them, for tests (moto does not check a POST's policy at all).

https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html: the policy is base64 JSON
`{expiration, conditions}`; every condition must hold (`eq` / `starts-with` on `$field`, `{field: value}` for `eq`,
`content-length-range`); a condition on a field the form lacks fails; every form field but `policy`,
`x-amz-signature`, `file` and `x-ignore-*` must be named by a condition; field names are case-insensitive; the
signature is SigV4 over the base64 policy.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

EXEMPT = {"policy", "x-amz-signature", "file"}


def policy_of(fields: dict[str, str]) -> dict[str, Any]:
    """The decoded policy document of a grant's fields."""
    return json.loads(base64.b64decode(fields["policy"]))


def _signature(secret: str, scope: str, policy: str) -> str:
    _, date, region, service, _ = scope.split("/")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()


def refusal(form: list[tuple[str, str]], bucket: str, size: int, secret: str = "test",
            now: dt.datetime | None = None) -> str | None:
    """Why S3 would refuse this form (its fields in order, the file's `size`), or None when it would take it."""
    fields = {name.lower(): value for name, value in form}
    if "policy" not in fields:
        return "no policy"
    if _signature(secret, fields["x-amz-credential"], fields["policy"]) != fields.get("x-amz-signature"):
        return "SignatureDoesNotMatch"
    policy = json.loads(base64.b64decode(fields["policy"]))
    expires = dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    if (now or dt.datetime.now(dt.timezone.utc)) >= expires:
        return "Policy expired"
    values = {**fields, "bucket": bucket}
    covered: set[str] = set()
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            checks = [("eq", f"${name}", value) for name, value in condition.items()]
        elif condition[0] == "content-length-range":
            if not int(condition[1]) <= size <= int(condition[2]):
                return "EntityTooLarge" if size > int(condition[2]) else "EntityTooSmall"
            continue
        else:
            checks = [tuple(condition)]
        for operator, field, value in checks:
            name = field[1:].lower()
            actual = values.get(name)
            if actual is None or not (actual == value if operator == "eq" else actual.startswith(value)):
                return f"Policy Condition failed: {json.dumps([operator, field, value])}"
            covered.add(name)
    extra = [name for name in fields if name not in covered and name not in EXEMPT and not name.startswith("x-ignore-")]
    return f"Extra input fields: {', '.join(extra)}" if extra else None


def parse_form(content_type: str, body: bytes) -> tuple[list[tuple[str, str]], bytes | None, list[str]]:
    """A multipart/form-data body: its text fields in order, the `file` part's bytes, and every part's name in order."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: list[tuple[str, str]] = []
    file: bytes | None = None
    order: list[str] = []
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        order.append(name)
        if name == "file":
            file = payload
        else:
            fields.append((name, payload.decode()))
    return fields, file, order
