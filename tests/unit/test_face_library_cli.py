"""`facegate enroll` keeps the photos, `facegate people` lists the library, `facegate forget` removes a person: the
same functions the console calls, on moto's in-memory S3 and DynamoDB."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("moto", reason="the dev extra (moto) is not installed")

from facegate_cli.app import app  # noqa: E402
from tests.conftest import FIXTURE_IMAGES  # noqa: E402
from tests.unit.console_support import FakeStack, open_fake_stack  # noqa: E402


@pytest.fixture
def stack(mocked_aws: None, tmp_path: Path) -> tuple[FakeStack, Path]:
    fake = open_fake_stack(tmp_path, None)
    outputs = tmp_path / "outputs.json"
    fake.outputs.write(outputs)
    return fake, outputs


def test_enroll_people_and_forget(stack: tuple[FakeStack, Path]) -> None:
    fake, outputs = stack
    runner = CliRunner()
    photos = sorted(str(p) for p in (FIXTURE_IMAGES / "Eileen_Collins").glob("*.jpg"))
    enrolled = runner.invoke(app, ["enroll", "--name", "Eileen_Collins", "--outputs", str(outputs), *photos[:2]])
    assert enrolled.exit_code == 0, enrolled.output
    added = runner.invoke(app, ["enroll", "--add", "--name", "Eileen_Collins", "--outputs", str(outputs), photos[2]])
    assert added.exit_code == 0, added.output

    listed = runner.invoke(app, ["people", "--json", "--outputs", str(outputs)])
    rows = {row["person"]: row for row in map(json.loads, listed.stdout.splitlines())}
    assert rows["Eileen_Collins"] == {"person": "Eileen_Collins", "enrolled": True, "gallery": 3, "photos": 3,
                                      "details": {"name": "Eileen Collins"}}

    forgot = runner.invoke(app, ["forget", "Eileen_Collins", "--yes", "--outputs", str(outputs)])
    assert forgot.exit_code == 0, forgot.output
    assert "3 photo(s) deleted" in " ".join(forgot.output.split())
    assert runner.invoke(app, ["people", "--json", "--outputs", str(outputs)]).stdout.strip() == ""
