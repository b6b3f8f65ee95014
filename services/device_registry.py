"""Devices of a stack: each has its own API key on the usage plan, and an entry in the `devices` table that maps
the key's SHA-256 to the device id (the Lambda takes a request's device from the key that called it, never from a
header the device could forge). Removing a device deletes its key: the gateway refuses it at once.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Attr

from facegate_contract import api_key_hash, is_device_id
from services.changes import Action, Change
from services.names import StackNames
from services.rest_api import paginate

DEVICE, DEVELOPER = "device", "developer"


class DeviceError(ValueError):
    """A device that cannot be added or removed as asked."""

    friendly = True  # printed as one line by the CLI
    exit_code = 2


@dataclass(frozen=True)
class DeviceKey:
    """A provisioned device: its id, its API key (id and value) and when it was made."""

    device_id: str
    api_key_id: str
    api_key: str
    created_at: str
    kind: str = DEVICE


def _find_key(apigw: Any, name: str) -> dict[str, Any] | None:
    return next((k for k in paginate(apigw, "get_api_keys", nameQuery=name, includeValues=True) if k["name"] == name),
                None)


def stack_keys(apigw: Any, names: StackNames) -> list[dict[str, Any]]:
    """Every API key of this stack (the developer's and the devices'), by name prefix."""
    return [k for k in paginate(apigw, "get_api_keys", nameQuery=names.device_key_prefix, includeValues=False)
            if k["name"].startswith(names.device_key_prefix)]


def _register(apigw: Any, table: Any, names: StackNames, plan_id: str, device_id: str, kind: str,
              key: dict[str, Any]) -> DeviceKey:
    value = key.get("value") or apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"]
    if not any(k["id"] == key["id"] for k in paginate(apigw, "get_usage_plan_keys", usagePlanId=plan_id)):
        apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key["id"], keyType="API_KEY")
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    table.put_item(Item={"key_hash": api_key_hash(value), "device_id": device_id, "api_key_id": key["id"],
                         "created_at": created, "kind": kind})
    return DeviceKey(device_id, key["id"], value, created, kind)


def add_device(apigw: Any, table: Any, names: StackNames, plan_id: str, device_id: str) -> DeviceKey:
    """A new device with its own key; an existing device is an error (remove it first to issue a new key)."""
    if not is_device_id(device_id):
        raise DeviceError(f"device names use letters, digits, '.', '_' or '-' (at most 63), not {device_id!r}")
    if device_id == names.developer_device:
        raise DeviceError(f"{device_id} is the developer key's name; choose another")
    name = names.device_key(device_id)
    if _find_key(apigw, name) is not None:
        raise DeviceError(f"device {device_id} exists already: `facegate device remove {device_id}` first to issue "
                          "a new key")
    key = apigw.create_api_key(name=name, description=f"facegate device {device_id}", enabled=True)
    return _register(apigw, table, names, plan_id, device_id, DEVICE, key)


def ensure_developer_key(apigw: Any, table: Any, names: StackNames, plan_id: str) -> tuple[DeviceKey, Change]:
    """The developer's key (tests, benchmarks, the demo's model checks): made once, kept across deploys."""
    key = _find_key(apigw, names.api_key)
    created = key is None
    if created:
        key = apigw.create_api_key(name=names.api_key, description="facegate developer key", enabled=True)
    assert key is not None
    registered = _register(apigw, table, names, plan_id, names.developer_device, DEVELOPER, key)
    return registered, Change("api key", names.api_key, Action.CREATED if created else Action.UNCHANGED,
                              f"device {names.developer_device}")


def remove_device(apigw: Any, table: Any, names: StackNames, device_id: str) -> Change:
    """Delete the device's key (refused by the gateway from now on) and its registry entries."""
    key = _find_key(apigw, names.device_key(device_id))
    if key is not None:
        apigw.delete_api_key(apiKey=key["id"])
    rows = _registry_rows(table, Attr("device_id").eq(device_id))
    for row in rows:
        table.delete_item(Key={"key_hash": row["key_hash"]})
    if key is None and not rows:
        return Change("device", device_id, Action.ABSENT)
    return Change("device", device_id, Action.DELETED, "API key deleted")


def _registry_rows(table: Any, condition: Any = None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"FilterExpression": condition} if condition is not None else {}
    rows, start = [], None
    while True:
        page = table.scan(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        rows.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return rows


def list_devices(apigw: Any, table: Any, names: StackNames) -> list[dict[str, Any]]:
    """Every registered device with its key's state: enabled, or missing (revoked outside facegate)."""
    keys = {k["id"]: k for k in stack_keys(apigw, names)}
    devices = []
    for row in sorted(_registry_rows(table), key=lambda r: (r.get("kind") != DEVELOPER, r["device_id"])):
        key = keys.get(row.get("api_key_id", ""))
        devices.append({"device_id": row["device_id"], "kind": row.get("kind", DEVICE),
                        "created_at": row.get("created_at", ""), "api_key_id": row.get("api_key_id", ""),
                        "key": "missing" if key is None else "enabled" if key.get("enabled", True) else "disabled"})
    return devices


def delete_all_keys(apigw: Any, names: StackNames) -> Change:
    """Delete every key of the stack (destroy)."""
    keys = stack_keys(apigw, names)
    for key in keys:
        apigw.delete_api_key(apiKey=key["id"])
    return Change("api keys", names.device_key_prefix + "*", Action.DELETED if keys else Action.ABSENT,
                  f"{len(keys)} key(s)" if keys else "")
