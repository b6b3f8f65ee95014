"""`facegate device add | remove | list`: provision camera devices that hold no AWS credentials.

A device gets its own API key and a small device file (API URL, key, device id) to copy
to the Pi; `facegate run --device-file F` is then its whole configuration.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from facegate_contract import DeviceFile, default_outputs_path, stage_url
from services import device_registry, http_api
from services.cli_options import EndpointOpt, PrefixOpt, ProfileOpt, RegionOpt, changes_table, console, target_from
from services.changes import Change
from services.names import StackNames
from services.target import Target

device_app = typer.Typer(help="Provision devices: add, remove, list (API keys and device files).",
                         no_args_is_help=True, add_completion=False)



def default_device_file(device_id: str) -> Path:
    """Where `device add` writes a device file: `devices/` beside the outputs file (.facegate/ by default)."""
    return default_outputs_path().parent / "devices" / f"{device_id}.json"


class StackNotDeployed(RuntimeError):
    """The stack's API is not there: nothing to provision a device on."""

    friendly = True
    exit_code = 2


def _stack(target: Target, prefix: str) -> tuple[StackNames, str]:
    """(names, API id) of the deployed stack."""
    names = StackNames.for_target(target, prefix)
    api = http_api.find_api(target.client("apigatewayv2"), names.api)
    if api is None:
        raise StackNotDeployed(f"no {prefix} stack in {target.describe()}: run `facegate deploy` first")
    return names, api["ApiId"]


def provision(target: Target, prefix: str, device_id: str, api_endpoint_url: str | None = None) -> DeviceFile:
    """Add a device and return its device file's content (the demo and the tests use this too)."""
    names, api_id = _stack(target, prefix)
    devices = target.resource("dynamodb").Table(names.devices_table)
    key = device_registry.add_device(devices, names, device_id)
    api_url = stage_url(api_id, names.stage, target.region, api_endpoint_url or target.endpoint_url)
    return DeviceFile(device_id=device_id, api_url=api_url, api_key=key.api_key, region=target.region)


def revoke(target: Target, prefix: str, device_id: str) -> Change:
    """Remove a device (its key and registry entry); returns the change (absent when there was none)."""
    names, _ = _stack(target, prefix)
    devices = target.resource("dynamodb").Table(names.devices_table)
    return device_registry.remove_device(devices, names, device_id)


@device_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The device's id: letters, digits, '.', '_' or '-'.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Device file to write (default: devices/NAME.json beside the outputs file, .facegate/).")] = None,
    api_endpoint_url: Annotated[Optional[str], typer.Option(
        "--api-endpoint-url", help="Emulator URL as the device reaches it, if not --endpoint-url.")] = None,
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    prefix: PrefixOpt = "facegate",
) -> None:
    """Add a device: its own API key, and a device file to copy to the Pi."""
    target = target_from(endpoint_url, profile, region)
    device = provision(target, prefix, name, api_endpoint_url)
    path = out or default_device_file(name)
    device.write(path)
    console.print(f"[green]device {name} added[/]; its file (holds the device's key, mode 0600): {path}")
    console.print(f"on the Pi: facegate run --camera picamera2 --device-file {path.name}")


@device_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The device's id.")],
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    prefix: PrefixOpt = "facegate",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Revoke a device: its key is deleted and the API refuses it within seconds (its spool is kept)."""
    target = target_from(endpoint_url, profile, region)
    if not yes and not target.is_emulator:
        typer.confirm(f"Revoke device {name} in {target.describe()}?", abort=True)
    change = revoke(target, prefix, name)
    console.print(changes_table("device remove", [change]))
    if change.action.value == "absent":
        raise typer.Exit(1)


@device_app.command("list")
def list_(
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    prefix: PrefixOpt = "facegate",
) -> None:
    """List the devices of the stack (never their keys)."""
    target = target_from(endpoint_url, profile, region)
    names, _ = _stack(target, prefix)
    devices = target.resource("dynamodb").Table(names.devices_table)
    table = Table(title="devices")
    for column in ("device", "kind", "created"):
        table.add_column(column)
    for row in device_registry.list_devices(devices):
        table.add_row(row["device_id"], row["kind"], row["created_at"])
    console.print(table)
