"""How the console's templates show values: times, percentages, clip names, face links, details."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from facegate_cli.console.strangers import FaceRef
from facegate_contract import UNDECIDED, UNKNOWN, parse_clip_key, plain_json


def when(iso: str) -> str:
    """An ISO time as `YYYY-MM-DD HH:MM:SS UTC` ("-" for none)."""
    return iso[:19].replace("T", " ") + " UTC" if iso else "-"


def iso(epoch_s: float) -> str:
    """Epoch seconds as an ISO UTC time (what `when` and the `moment` macro show)."""
    return datetime.fromtimestamp(float(epoch_s), tz=UTC).isoformat(timespec="seconds")


def clock(iso: str) -> str:
    """The time of day of an ISO time."""
    return iso[11:19] if len(iso) >= 19 else iso


def percent(value: Any) -> str:
    """A 0..1 number as a whole percentage ("-" for none)."""
    return f"{float(value) * 100:.0f}%" if isinstance(value, (int, float)) else "-"


def box_tuple(box: dict[str, Any]) -> tuple[float, float, float, float]:
    """A reported face box as (x1, y1, x2, y2)."""
    return float(box["x1"]), float(box["y1"]), float(box["x2"]), float(box["y2"])


def face_url(face: FaceRef | None, size: int = 160) -> str:
    """The console URL of a face's thumbnail ("" for none)."""
    return f"/faces?{urlencode({'token': face.token, 'size': size})}" if face else ""


def decision_class(decision: str) -> str:
    """The CSS class of a decision: known, unknown or undecided."""
    return {UNKNOWN: "unknown", UNDECIDED: "undecided"}.get(decision, "known")


def clip_label(key: str) -> str:
    """A clip key's short name (its stamp and sequence)."""
    parsed = parse_clip_key(key)
    return parsed[1] if parsed else key


def details_text(details: dict[str, Any]) -> str:
    """A person's details as indented JSON for the edit box."""
    return json.dumps(plain_json(details), indent=2, sort_keys=True, default=str) if details else "{}"
