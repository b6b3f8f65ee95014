"""DynamoDB tables: `people` (details keyed by the label First_Last), `sightings` (who was seen when; expires with
the clips) and `devices` (which device an API key belongs to)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from services.changes import Action, Change
from facegate_contract.items import PERSON_KEY, SEEN_AT_KEY


@dataclass(frozen=True)
class TableSpec:
    """Key schema of one table; both use on-demand billing."""

    name: str
    hash_key: str
    range_key: str | None = None
    ttl_attribute: str | None = None  # items expire at this epoch-seconds attribute (DynamoDB TTL)

    def key_schema(self) -> list[dict[str, str]]:
        keys = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            keys.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        return keys

    def attribute_definitions(self) -> list[dict[str, str]]:
        return [{"AttributeName": k["AttributeName"], "AttributeType": "S"} for k in self.key_schema()]


def people_table(name: str) -> TableSpec:
    """People: one item per enrolled label (`person` = First_Last)."""
    return TableSpec(name=name, hash_key=PERSON_KEY)


SIGHTING_TTL_ATTRIBUTE = "expires_at"


def sightings_table(name: str) -> TableSpec:
    """Sightings: partition by person (or "unknown"), sorted by ISO time + request id; they expire like the clips."""
    return TableSpec(name=name, hash_key=PERSON_KEY, range_key=SEEN_AT_KEY, ttl_attribute=SIGHTING_TTL_ATTRIBUTE)


def devices_table(name: str) -> TableSpec:
    """Devices: one item per API key, keyed by the key's SHA-256."""
    return TableSpec(name=name, hash_key="key_hash")


def _ensure_ttl(dynamodb: Any, spec: TableSpec) -> bool:
    """Turn on TTL for the spec's attribute; True when it had to be changed."""
    if spec.ttl_attribute is None:
        return False
    current = dynamodb.describe_time_to_live(TableName=spec.name).get("TimeToLiveDescription", {})
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and current.get("AttributeName") == spec.ttl_attribute:
        return False
    dynamodb.update_time_to_live(TableName=spec.name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": spec.ttl_attribute})
    return True


def table_exists(dynamodb: Any, name: str) -> bool:
    """True when the table exists."""
    return _describe(dynamodb, name) is not None


def _describe(dynamodb: Any, name: str) -> dict[str, Any] | None:
    try:
        return dynamodb.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def ensure_table(dynamodb: Any, spec: TableSpec) -> Change:
    """Create the table if missing; a table with another key schema is an error, never silently replaced."""
    table = _describe(dynamodb, spec.name)
    if table is None:
        dynamodb.create_table(
            TableName=spec.name,
            KeySchema=spec.key_schema(),
            AttributeDefinitions=spec.attribute_definitions(),
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True},
        )
        dynamodb.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        _ensure_ttl(dynamodb, spec)
        detail = f"items expire by {spec.ttl_attribute}" if spec.ttl_attribute else ""
        return Change("dynamodb table", spec.name, Action.CREATED, detail)
    if table["KeySchema"] != spec.key_schema():
        raise RuntimeError(
            f"table {spec.name} exists with key schema {table['KeySchema']}, expected {spec.key_schema()}; "
            "destroy the stack or choose another --prefix"
        )
    if _ensure_ttl(dynamodb, spec):
        return Change("dynamodb table", spec.name, Action.UPDATED, f"TTL on {spec.ttl_attribute}")
    return Change("dynamodb table", spec.name, Action.UNCHANGED)


def delete_table(dynamodb: Any, name: str) -> Change:
    """Delete the table and wait until it is gone."""
    if _describe(dynamodb, name) is None:
        return Change("dynamodb table", name, Action.ABSENT)
    dynamodb.delete_table(TableName=name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return Change("dynamodb table", name, Action.DELETED)
