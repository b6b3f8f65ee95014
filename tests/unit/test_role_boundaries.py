"""Each role installs alone: services, pi_app and recognizer never import each other; all three share only the
wire contract; the serving code the Lambda image carries imports no training, export or CLI code."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

ROLES = ("services", "pi_app", "recognizer")
OURS = {*ROLES, "facegate_cli", "facegate_contract"}
# The recognizer's packages the Lambda image carries (with its top-level modules), and those it never carries.
SERVING = ("recognize", "control", "api", "detect", "embed", "classify")
TOOLS = ("face_library", "training", "export", "torch_reference")


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


def _serving_files() -> list[Path]:
    recognizer = ROOT / "recognizer"
    return sorted(recognizer.glob("*.py")) + [p for package in SERVING for p in _files(f"recognizer/{package}")]


def test_serving_code_imports_no_tool_or_cli_code() -> None:
    serving = _serving_files()
    assert len(serving) > 20, "the Lambdas, what they share and the face pipeline"
    forbidden = (*(f"recognizer.{tool}" for tool in TOOLS), "facegate_cli")
    found = {f"{p.relative_to(ROOT)}: {n}" for p in serving for n in _imports(p) if n.startswith(forbidden)}
    assert found == set()


def test_every_recognizer_package_is_serving_code_or_a_tool() -> None:
    """A new package must say which side it is on (and the image below must then copy it, or not)."""
    packages = {p.parent.name for p in (ROOT / "recognizer").glob("*/__init__.py")}
    assert packages == set(SERVING) | set(TOOLS)


def test_the_lambda_image_copies_the_serving_packages_and_no_tool() -> None:
    dockerfile = (ROOT / "recognizer" / "Dockerfile").read_text()
    stage = dockerfile[dockerfile.index(" AS lambda-files"):dockerfile.index(" AS lambda-rootfs")]
    copied = set(re.findall(r"^COPY recognizer/(\w+)/ ", stage, flags=re.M))
    assert copied == set(SERVING)
    assert "COPY recognizer/*.py " in stage  # the top-level modules: faces, pipeline, model files, image helpers


def test_the_boundary_check_sees_a_crossing(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from pi_app.recording.spool import Spool\n")
    assert "pi_app.recording.spool" in _imports(module)
