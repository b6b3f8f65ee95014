"""Seed the `people` table from the data file in the repo (or any JSON file of the same shape)."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from facegate_contract import plain_json
from services.changes import Action, Change

LABEL_FIELD = "person"


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


def seed_people(dynamodb_resource: Any, table_name: str, people: list[dict[str, Any]]) -> Change:
    """Put every record whose stored form differs; reports how many were written."""
    table = dynamodb_resource.Table(table_name)
    written = 0
    for row in people:
        current = table.get_item(Key={LABEL_FIELD: row[LABEL_FIELD]}, ConsistentRead=True).get("Item")
        if not _covers(current, row):
            table.put_item(Item={**(current or {}), **row})
            written += 1
    if written == 0:
        return Change("people records", table_name, Action.UNCHANGED, f"{len(people)} up to date")
    return Change("people records", table_name, Action.UPDATED, f"{written} of {len(people)} written")
