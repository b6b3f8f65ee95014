"""`facegate sightings`: the visits at the door, from the sightings table (the emulator or AWS)."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Optional

import typer
from rich.table import Table

from services.cli_options import EndpointOpt, PrefixOpt, ProfileOpt, RegionOpt, console, target_from
from services.names import StackNames
from services.target import Target
from services.visit_log import list_visits, since_epoch


def sightings(
    since: Annotated[Optional[str], typer.Option("--since", help="From this long ago (30m, 2h, 7d) or this UTC "
                                                                  "date (2026-11-29T10:00).")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="Only this device's visits.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Only visits decided as this person (or unknown, "
                                                                "undecided).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many visits, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")] = False,
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    prefix: PrefixOpt = "facegate",
) -> None:
    """List visits at the door: who, when, how long, how many clips, and the decision."""
    start = since_epoch(since) if since else None
    # JSON lines stay machine-readable: no target banner on stdout then.
    target = Target.from_options(endpoint_url, profile, region) if as_json else target_from(endpoint_url, profile, region)
    table = target.resource("dynamodb").Table(StackNames.for_target(target, prefix).sightings_table)
    visits = list_visits(table, since=start, device=device, name=name, limit=limit)
    if as_json:
        for visit in visits:
            print(json.dumps({k: v for k, v in asdict(visit).items() if k != "evidence"}))
        return
    table_view = Table(title=f"visits ({len(visits)})")
    for column in ("start (UTC)", "device", "decision", "confidence", "seconds", "clips", "conflict", "visit"):
        table_view.add_column(column)
    for visit in visits:
        colour = "yellow" if visit.decision == "unknown" else "dim" if visit.decision == "undecided" else "green"
        table_view.add_row(visit.started_at[:19].replace("T", " "), visit.device, f"[{colour}]{visit.decision}[/]",
                           "-" if visit.confidence is None else f"{visit.confidence:.2f}", f"{visit.duration_s:.1f}",
                           str(visit.clips), ", ".join(visit.conflicts) or "", visit.visit_id)
    console.print(table_view)
