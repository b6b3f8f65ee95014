"""`facegate deploy | destroy | seed | status`: the stack commands of the CLI."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from facegate_contract import default_outputs_path
from facegate_contract.settings import LOG_LEVELS
from services import console_login, stack
from services.changes import any_changed
from services.cli_options import (EndpointOpt, OutputsOpt, PrefixOpt, ProfileOpt, RegionOpt, changes_table, console,
                                  target_from)


def deploy(
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    prefix: PrefixOpt = "facegate",
    outputs: OutputsOpt = None,
    image: Annotated[str, typer.Option(help="Local recognizer image; pushed to ECR when deploying to AWS.")] = stack.recognizer_image.DEFAULT_LOCAL_IMAGE,
    retention_days: Annotated[int, typer.Option(min=1, help="Days clips are kept in S3.")] = 30,
    seed_file: Annotated[Optional[Path], typer.Option(exists=True, dir_okay=False, help="People JSON (default: bundled).")] = None,
    no_seed: Annotated[bool, typer.Option("--no-seed", help="Do not create missing people records.")] = False,
    public_endpoint_url: Annotated[Optional[str], typer.Option(help="Emulator URL clients use, if not --endpoint-url.")] = None,
    reserved_concurrency: Annotated[Optional[int], typer.Option(
        min=1, help="Recognitions the Lambda runs at once (default: unreserved on AWS, the machine's cores on an "
                    "emulator).")] = None,
    function_log_level: Annotated[str, typer.Option(
        help="The functions' log level: WARNING logs no line per request (CloudWatch Logs bills every byte); INFO "
             "logs one per request.")] = stack.FUNCTION_LOG_LEVEL,
    console_password_file: Annotated[Optional[Path], typer.Option(
        exists=True, dir_okay=False, help=f"Set the console password from this file's first line (or set "
                                          f"{console_login.PASSWORD_ENV}); by default the first deploy generates "
                                          f"one into {console_login.PASSWORD_FILE} beside the outputs file.")] = None,
) -> None:
    """Create or update the whole stack; running it again changes nothing and says so."""
    if function_log_level.upper() not in LOG_LEVELS:
        raise typer.BadParameter(f"use one of {', '.join(LOG_LEVELS)}", param_hint="--function-log-level")
    password = console_login.password_from(console_password_file)
    if password is not None:
        console_login.check_password(password)  # too short: say so before touching anything
    stack.recognizer_image.docker_client()  # the image is pushed from the docker engine: fail before touching AWS
    target = target_from(endpoint_url, profile, region)
    options = stack.DeployOptions(prefix=prefix, image=image, retention_days=retention_days, seed_file=seed_file,
                                  seed=not no_seed, public_endpoint_url=public_endpoint_url,
                                  reserved_concurrency=reserved_concurrency, console_password=password,
                                  function_log_level=function_log_level.upper())
    with console.status("deploying…"):
        result = stack.deploy(target, options)
    console.print(changes_table("deploy", result.changes))
    path = outputs or default_outputs_path()
    result.outputs.write(path)
    if result.console_password is not None:
        secret_file = path.parent / console_login.PASSWORD_FILE
        console_login.write_password_file(secret_file, result.console_password)
        console.print(f"console password generated: it is in {secret_file} (owner-only); `facegate console` asks for it")
    if any_changed(result.changes):
        console.print(f"[green]stack deployed[/]; outputs in {path}")
    else:
        console.print(f"[bold]no changes[/]: the stack is already up to date; outputs in {path}")
    console.print(f"recognize URL: {result.outputs.recognize_url}")


def destroy(
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    prefix: PrefixOpt = "facegate",
    outputs: OutputsOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every resource of the stack, clips included."""
    target = target_from(endpoint_url, profile, region)
    if not yes and not target.is_emulator:
        typer.confirm(f"Delete the {prefix} stack and every clip in {target.describe()}?", abort=True)
    changes = stack.destroy(target, prefix)
    console.print(changes_table("destroy", changes))
    path = outputs or default_outputs_path()
    if path.exists():
        path.unlink()
    left = stack.leftovers(target, prefix)
    if left:
        console.print(f"[red]still present:[/] {', '.join(left)}")
        raise typer.Exit(1)
    console.print("[green]nothing left behind[/]")


def seed(
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    prefix: PrefixOpt = "facegate",
    seed_file: Annotated[Optional[Path], typer.Option(exists=True, dir_okay=False, help="People JSON (default: bundled).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Also rewrite the seeded fields of people already stored (e.g. allow_entry).")] = False,
) -> None:
    """Write the people records (details the recognizer returns) into DynamoDB: only people not stored yet."""
    target = target_from(endpoint_url, profile, region)
    change = stack.seed(target, prefix, seed_file, overwrite)
    console.print(changes_table("seed", [change]))


def status(
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    prefix: PrefixOpt = "facegate",
) -> None:
    """Show which resources of the stack exist."""
    target = target_from(endpoint_url, profile, region)
    rows = stack.status(target, prefix)
    table = Table(title="status")
    for column in ("resource", "name", "present", "detail"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["kind"], r["name"], "[green]yes[/]" if r["present"] else "[red]no[/]", r["detail"])
    console.print(table)
    if not all(r["present"] for r in rows):
        raise typer.Exit(3)

