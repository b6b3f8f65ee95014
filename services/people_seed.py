"""Seed the `people` table from the data file in the repo (or any JSON file of the same shape)."""
from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from facegate_contract import plain_json
from services.changes import Action, Change
from facegate_contract.items import PERSON_KEY

LABEL_FIELD = PERSON_KEY

log = logging.getLogger(__name__)


class SeedError(ValueError):
    """The seed file is malformed."""


def load_people(path: Path | None = None) -> list[dict[str, Any]]:
    """Read and validate people records; each needs a `person` label in First_Last form."""
    text = path.read_text() if path else resources.files("services").joinpath("data/people.json").read_text()
    try:
        rows = json.loads(text)["people"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SeedError(f"seed file must be JSON with a 'people' list: {exc}") from exc
    for i, row in enumerate(rows):
        label = row.get(LABEL_FIELD) if isinstance(row, dict) else None
        if not isinstance(label, str) or not label or " " in label:
            raise SeedError(f"people[{i}]: '{LABEL_FIELD}' must be a label like First_Last, got {label!r}")
    return rows


def _covers(current: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    """True when every seeded field already has its value (fields added later, e.g. by enroll, are kept)."""
    return current is not None and all(plain_json(current.get(k)) == v for k, v in wanted.items())


def _overwrite(table: Any, people: list[dict[str, Any]]) -> Change:
    """Put every record whose stored form differs (seeded fields win over edits, e.g. a revoked `allow_entry`)."""
    written = 0
    for row in people:
        current = table.get_item(Key={LABEL_FIELD: row[LABEL_FIELD]}, ConsistentRead=True).get("Item")
        if not _covers(current, row):
            table.put_item(Item={**(current or {}), **row})
            written += 1
    if written == 0:
        return Change("people records", table.name, Action.UNCHANGED, f"{len(people)} up to date")
    return Change("people records", table.name, Action.UPDATED, f"{written} of {len(people)} written")


def _create_missing(table: Any, people: list[dict[str, Any]]) -> Change:
    """Write only people not stored yet: a conditional put, so a record edited since (by the console, `forget`,
    a revoked `allow_entry`) is never reset by a re-deploy, even one racing another writer."""
    created = 0
    for row in people:
        try:
            table.put_item(Item=row, ConditionExpression="attribute_not_exists(#k)",
                           ExpressionAttributeNames={"#k": LABEL_FIELD})
            created += 1
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
    kept = len(people) - created
    log.info("people seeded", extra={"table": table.name, "people_created": created, "people_left_alone": kept})
    action = Action.CREATED if created else Action.UNCHANGED
    return Change("people records", table.name, action, f"{created} created, {kept} left alone")


def seed_people(dynamodb_resource: Any, table_name: str, people: list[dict[str, Any]],
                overwrite: bool = False) -> Change:
    """Create the people not stored yet and leave existing ones alone; with `overwrite`, rewrite the seeded fields
    of every record that differs. The change's detail says how many were created / left alone (or written)."""
    table = dynamodb_resource.Table(table_name)
    return _overwrite(table, people) if overwrite else _create_missing(table, people)
