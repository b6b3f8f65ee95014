"""Seeding people creates those not stored yet and never resets a stored record (moto's DynamoDB)."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from services import stack, tables
from services.changes import Action
from services.names import StackNames
from services.people_seed import load_people
from services.target import Target
from tests.unit.conftest import MOCK_REGION


@pytest.fixture
def people_table(mocked_aws: None) -> tuple[Target, Any]:
    target = Target(region=MOCK_REGION)
    name = StackNames.for_target(target, "facegate").people_table
    tables.ensure_table(target.client("dynamodb"), tables.people_table(name))
    return target, target.resource("dynamodb").Table(name)


def test_a_redeploy_seed_leaves_a_revoked_person_revoked(people_table: tuple[Target, Any],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    target, table = people_table
    people = load_people()
    with caplog.at_level(logging.INFO, logger="services.people_seed"):
        first = stack.seed(target)
    (logged,) = [r for r in caplog.records if r.getMessage() == "people seeded"]
    assert (logged.people_created, logged.people_left_alone) == (len(people), 0)
    assert first.action is Action.CREATED and first.detail == f"{len(people)} created, 0 left alone"
    revoked = people[0]["person"]
    table.update_item(Key={"person": revoked}, UpdateExpression="SET allow_entry = :f",
                      ExpressionAttributeValues={":f": False})
    table.delete_item(Key={"person": people[1]["person"]})

    again = stack.seed(target)

    assert again.action is Action.CREATED and again.detail == f"1 created, {len(people) - 1} left alone"
    assert table.get_item(Key={"person": revoked})["Item"]["allow_entry"] is False
    assert table.get_item(Key={"person": people[1]["person"]})["Item"]["allow_entry"] is True
    assert stack.seed(target).action is Action.UNCHANGED


def test_seed_overwrite_is_asked_for_explicitly(people_table: tuple[Target, Any]) -> None:
    target, table = people_table
    stack.seed(target)
    revoked = load_people()[0]["person"]
    table.update_item(Key={"person": revoked}, UpdateExpression="SET allow_entry = :f, note = :n",
                      ExpressionAttributeValues={":f": False, ":n": "kept"})

    change = stack.seed(target, overwrite=True)

    assert change.action is Action.UPDATED
    item = table.get_item(Key={"person": revoked})["Item"]
    assert item["allow_entry"] is True and item["note"] == "kept"
