"""What every stack command shares: the options that name a target, and how changes are shown."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from services.changes import Change
from services.target import Target
from facegate_contract.settings import ENV_ENDPOINT_URL

console = Console()

EndpointOpt = Annotated[Optional[str], typer.Option("--endpoint-url", envvar=ENV_ENDPOINT_URL,
                                                    help="Emulator URL (e.g. http://localhost:4566); omit for real AWS.")]
ProfileOpt = Annotated[Optional[str], typer.Option("--profile", envvar="AWS_PROFILE", help="AWS named profile.")]
RegionOpt = Annotated[Optional[str], typer.Option("--region", help="AWS region (default: AWS_REGION or us-east-1).")]
PrefixOpt = Annotated[str, typer.Option("--prefix", help="Name prefix of every resource of the stack.")]
OutputsOpt = Annotated[Optional[Path], typer.Option("--outputs", help="Outputs file (default .facegate/outputs.json).")]


def target_from(endpoint_url: str | None, profile: str | None, region: str | None) -> Target:
    """The target the options name, announced on the console (no secrets)."""
    target = Target.from_options(endpoint_url, profile, region)
    console.print(f"[bold]target:[/] {target.describe()}")
    return target


def changes_table(title: str, changes: list[Change]) -> Table:
    """A table of resources and what happened to each."""
    table = Table(title=title)
    for column in ("resource", "name", "action", "detail"):
        table.add_column(column)
    colours = {"created": "green", "updated": "yellow", "deleted": "red"}
    for c in changes:
        colour = colours.get(c.action.value, "dim")
        table.add_row(c.kind, c.name, f"[{colour}]{c.action.value}[/]", c.detail)
    return table
