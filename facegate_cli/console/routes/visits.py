"""The visits: the live timeline (a page and its rows) and one visit with its clips."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from facegate_cli.console.backend import ConsoleError, best_face
from facegate_cli.console.formatting import box_tuple
from facegate_cli.console.strangers import FaceRef
from facegate_cli.console.web import Console, back, require_login
from services.visit_log import SinceError, since_epoch

router = APIRouter(dependencies=[Depends(require_login)])


@router.get("/")
def home() -> Response:
    """The timeline is the home page."""
    return back("/visits")


def _filters(since: str | None, device: str | None, name: str | None) -> dict[str, Any]:
    start = None
    if since:
        try:
            start = since_epoch(since)
        except SinceError as exc:
            raise ConsoleError(str(exc)) from exc
    return {"since": start, "device": device or None, "name": name or None}


@router.get("/visits", response_class=HTMLResponse)
def visits_page(request: Request, console: Console, since: str | None = None, device: str | None = None,
                name: str | None = None) -> Response:
    """The live timeline, filtered."""
    query = {k: v for k, v in {"since": since, "device": device, "name": name}.items() if v}
    try:
        visits = console.backend.visits(**_filters(since, device, name))
        error = None
    except ConsoleError as exc:
        visits, error = [], str(exc)
    return console.page(request, "visits.html", title="Visits", visits=visits, query=query, error=error,
                        rows_url="/visits/rows" + (f"?{urlencode(query)}" if query else ""))


@router.get("/visits/rows", response_class=HTMLResponse)
def visit_rows(request: Request, console: Console, since: str | None = None, device: str | None = None,
               name: str | None = None) -> Response:
    """The timeline's rows, which the page re-fetches every few seconds."""
    try:
        visits = console.backend.visits(**_filters(since, device, name))
    except ConsoleError:
        visits = []
    return console.fragment(request, "_visit_rows.html", visits=visits)


@router.get("/visits/{visit_id}", response_class=HTMLResponse)
def visit_page(request: Request, console: Console, visit_id: str, clip: str | None = None) -> Response:
    """One visit: its clip playing, its facts, every clip with faces."""
    visit = console.backend.visit(visit_id)
    if visit is None:
        return console.page(request, "error.html", status_code=404, title="No such visit",
                            message=f"There is no visit {visit_id} (visits expire with their clips).")
    playing = clip if clip in visit.keys or clip in {e.get("key") for e in visit.evidence} else visit.best_key
    clips: dict[str, list[dict[str, Any]]] = {}
    for item in visit.evidence:
        clips.setdefault(item.get("key", ""), []).append(item)
    evidence = [(key, items, [FaceRef(visit.visit_id, key, box_tuple(i["box"]))
                              for i in items if isinstance(i.get("box"), dict)])
                for key, items in clips.items() if key]
    return console.page(request, "visit.html", title=f"Visit {visit.visit_id}", visit=visit, playing=playing,
                        evidence=evidence, face=best_face(visit))
