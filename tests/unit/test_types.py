"""The type checker over the wire contract and its users: a field renamed in the contract is an error wherever a
role still uses the old name (the configuration is pyproject.toml's [tool.mypy])."""
from __future__ import annotations

import os

import pytest

from tests.conftest import ROOT


def test_the_contract_and_its_users_type_check() -> None:
    api = pytest.importorskip("mypy.api")
    cwd = os.getcwd()
    os.chdir(ROOT)  # mypy reads [tool.mypy] and resolves `files` from the project root
    try:
        report, errors, status = api.run(["--cache-dir", str(ROOT / ".mypy_cache")])
    finally:
        os.chdir(cwd)
    assert status == 0, report + errors
