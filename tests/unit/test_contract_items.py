"""How the tables' items read back for every role: DynamoDB's Decimals as plain JSON numbers, at any depth."""
from __future__ import annotations

import json
from decimal import Decimal

from facegate_contract import plain_json


def test_numbers_come_back_as_ints_or_floats_through_lists_and_maps() -> None:
    item = {"person": "Ann_Lee", "year": Decimal("4"), "share": Decimal("0.75"),
            "votes": [{"conf": Decimal("0.9")}, Decimal("2")], "note": None, "ok": True}

    plain = plain_json(item)

    assert plain == {"person": "Ann_Lee", "year": 4, "share": 0.75, "votes": [{"conf": 0.9}, 2], "note": None, "ok": True}
    assert type(plain["year"]) is int and type(plain["votes"][1]) is int and type(plain["share"]) is float
    json.dumps(plain)  # no Decimal left anywhere
