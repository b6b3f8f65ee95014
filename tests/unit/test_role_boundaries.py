"""Each role installs alone: services, pi_app and recognizer never import each other; all three share only the
wire contract; the serving code the Lambda image carries imports no training, export or CLI code."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

ROLES = ("services", "pi_app", "recognizer")
OURS = {*ROLES, "facegate_cli", "facegate_contract"}


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("role", ROLES)
def test_a_role_imports_only_itself_and_the_contract(role: str) -> None:
    crossings = {f"{path.relative_to(ROOT)}: {name}" for path in _files(role) for name in _imports(path)
                 if name.split(".")[0] in OURS - {role, "facegate_contract"}}
    assert crossings == set()


def test_the_contract_imports_nothing_of_ours() -> None:
    imported = {n for path in _files("facegate_contract") for n in _imports(path) if n.split(".")[0] in OURS}
    assert {n.split(".")[0] for n in imported} <= {"facegate_contract"}  # only itself


def test_the_rigs_are_dev_only_and_stand_outside_the_tests() -> None:
    """facegate_rigs drives the stack for tests and benches: no role, nor the CLI or the contract, imports it; it and
    the scripts import nothing from tests/ (the tests import the rigs, not the other way round)."""
    shipped = {f"{path.relative_to(ROOT)}: {name}" for folder in (*ROLES, "facegate_cli", "facegate_contract")
               for path in _files(folder) for name in _imports(path) if name.split(".")[0] == "facegate_rigs"}
    assert shipped == set()
    dev = {f"{path.relative_to(ROOT)}: {name}" for folder in ("facegate_rigs", "scripts") for path in _files(folder)
           for name in _imports(path) if name.split(".")[0] == "tests"}
    assert dev == set()


def test_serving_code_imports_no_training_export_or_cli_code() -> None:
    serving = [p for p in (ROOT / "recognizer").glob("*.py")]
    assert serving, "the recognizer's serving modules sit at the package's top level"
    forbidden = ("recognizer.training", "recognizer.export", "facegate_cli")
    found = {f"{p.name}: {n}" for p in serving for n in _imports(p) if n.startswith(forbidden)}
    assert found == set()


def test_the_boundary_check_sees_a_crossing(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from pi_app.recording.spool import Spool\n")
    assert "pi_app.recording.spool" in _imports(module)
