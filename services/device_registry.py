"""Devices of a stack: each has its own API key, and an entry in the `devices` table that maps the key's SHA-256 to the
device id. The functions take a request's device from the key that called it (never from a header the device could
forge) and refuse a key that is in no entry; removing a device deletes its entry, so its key is refused within the
functions' short cache time (recognizer/api/device_identity.py).

A device's key is shown once, in the device file `facegate device add` writes; only its hash is stored. The
developer key (tests, benchmarks, the demo) is kept in its entry, so every deploy hands out the same one.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Attr

from facegate_contract import api_key_hash, is_device_id
from services.changes import Action, Change
from services.names import StackNames

DEVICE, DEVELOPER = "device", "developer"
KEY_BYTES = 30  # 240 random bits, 40 URL-safe characters (API Gateway's own keys are 40 characters too)


class DeviceError(ValueError):
    """A device that cannot be added or removed as asked."""

    friendly = True  # printed as one line by the CLI
    exit_code = 2


@dataclass(frozen=True)
class DeviceKey:
    """A provisioned device: its id, its API key and when it was made."""

    device_id: str
    api_key: str
    created_at: str
    kind: str = DEVICE


def new_api_key() -> str:
    """A fresh random API key."""
    return secrets.token_urlsafe(KEY_BYTES)


def _rows(table: Any, condition: Any = None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"FilterExpression": condition} if condition is not None else {}
    rows, start = [], None
    while True:
        page = table.scan(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        rows.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return rows


def _register(table: Any, device_id: str, kind: str) -> DeviceKey:
    key = new_api_key()
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    item = {"key_hash": api_key_hash(key), "device_id": device_id, "created_at": created, "kind": kind}
    if kind == DEVELOPER:
        item["api_key"] = key  # handed out again by every deploy; a device's key is never stored
    # A fresh random key cannot collide; the condition makes sure no write ever replaces another device's entry.
    table.put_item(Item=item, ConditionExpression="attribute_not_exists(key_hash)")
    return DeviceKey(device_id, key, created, kind)


def add_device(table: Any, names: StackNames, device_id: str) -> DeviceKey:
    """A new device with its own key; an existing device is an error (remove it first to issue a new key)."""
    if not is_device_id(device_id):
        raise DeviceError(f"device names use letters, digits, '.', '_' or '-' (at most 63), not {device_id!r}")
    if device_id == names.developer_device:
        raise DeviceError(f"{device_id} is the developer key's name; choose another")
    if _rows(table, Attr("device_id").eq(device_id)):
        raise DeviceError(f"device {device_id} exists already: `facegate device remove {device_id}` first to issue "
                          "a new key")
    return _register(table, device_id, DEVICE)


def ensure_developer_key(table: Any, names: StackNames) -> tuple[DeviceKey, Change]:
    """The developer's key (tests, benchmarks, the demo's model checks): made once, kept across deploys."""
    rows = _rows(table, Attr("device_id").eq(names.developer_device))
    for row in rows:
        key = str(row.get("api_key") or "")
        if key and api_key_hash(key) == row["key_hash"]:
            return (DeviceKey(names.developer_device, key, str(row.get("created_at", "")), DEVELOPER),
                    Change("api key", names.developer_device, Action.UNCHANGED, f"device {names.developer_device}"))
    for row in rows:  # an entry whose key is not kept (an older stack's): replaced by one that is
        table.delete_item(Key={"key_hash": row["key_hash"]})
    return (_register(table, names.developer_device, DEVELOPER),
            Change("api key", names.developer_device, Action.CREATED, f"device {names.developer_device}"))


def remove_device(table: Any, names: StackNames, device_id: str) -> Change:
    """Delete the device's registry entries: its key is refused from then on."""
    rows = _rows(table, Attr("device_id").eq(device_id))
    for row in rows:
        table.delete_item(Key={"key_hash": row["key_hash"]})
    if not rows:
        return Change("device", device_id, Action.ABSENT)
    return Change("device", device_id, Action.DELETED, "API key revoked")


def list_devices(table: Any) -> list[dict[str, Any]]:
    """Every registered device (the developer first), never its key."""
    return [{"device_id": row["device_id"], "kind": row.get("kind", DEVICE), "created_at": row.get("created_at", "")}
            for row in sorted(_rows(table), key=lambda r: (r.get("kind") != DEVELOPER, r["device_id"]))]
