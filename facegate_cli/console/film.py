"""A visit's film as the player reads it: one entry per clip that is still there, with the faces of that clip (where
each was in the frame and who the device counted it as) so the page can draw them over the video on request.

Only the box and the name go to the page: no confidence, sighting id or anything else biometric."""
from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from facegate_cli.console.formatting import clip_label
from facegate_contract import UNKNOWN

BOX_SIDES = ("x1", "y1", "x2", "y2")


def film_box(box: Any) -> dict[str, float] | None:
    """A reported box as {x1, y1, x2, y2} in the recognised frame's pixels; None for one that cannot be drawn."""
    if not isinstance(box, dict):
        return None
    try:
        x1, y1, x2, y2 = (float(box[k]) for k in BOX_SIDES)
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)) or x2 <= x1 or y2 <= y1:
        return None
    return {"x1": round(x1, 1), "y1": round(y1, 1), "x2": round(x2, 1), "y2": round(y2, 1)}


def clip_faces(evidence: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The faces of one clip of the visit: box and name (a face nobody knows is "unknown")."""
    faces = []
    for item in evidence:
        box = film_box(item.get("box")) if item.get("key") == key else None
        if box is not None:
            faces.append({"name": str(item.get("name") or UNKNOWN), "box": box})
    return faces


def playlist(keys: list[str], evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The player's entries for these clips, in order: where to play each from, its short name, its faces."""
    return [{"src": f"/clips/play?{urlencode({'key': k})}", "label": clip_label(k), "faces": clip_faces(evidence, k)}
            for k in keys]
