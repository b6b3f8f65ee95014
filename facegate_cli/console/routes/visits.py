"""The visits: the live timeline (a page and its rows) and one visit with its clips."""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from facegate_cli.console.backend import ConsoleError, best_face
from facegate_cli.console.clip_media import DEFAULT_MAX_SIDE, ClipMissing
from facegate_cli.console.clip_sandbox import ClipRefused
from facegate_cli.console.film import playlist
from facegate_cli.console.formatting import box_tuple
from facegate_cli.console.strangers import FaceRef
from facegate_cli.console.history import PAGE_SIZE, HistoryQuery
from facegate_cli.console.routes.footage import around_visit
from facegate_cli.console.web import Console, ConsoleState, back, problem, require_login
from services.visit_log import VisitRecord

router = APIRouter(dependencies=[Depends(require_login)])


@router.get("/")
def home() -> Response:
    """The timeline is the home page."""
    return back("/visits")


def _history(console: ConsoleState, query: HistoryQuery) -> dict[str, Any]:
    """The template context of the visit list: a page of visits, the older page's link, the query."""
    page = console.backend.history(query.since_epoch, query.upper_key, query.keep if query.filtered else None,
                                   limit=PAGE_SIZE)
    older = f"/visits?{urlencode(query.params(before=page.older))}" if page.older else ""
    return {"visits": page.visits, "older": older, "query": query,
            "rows_url": "" if query.before else "/visits/rows" + (f"?{urlencode(query.params())}" if query.filtered else "")}


def _query(since: str, until: str, device: str, name: str, before: str) -> HistoryQuery:
    return HistoryQuery(since.strip(), until.strip(), device.strip(), name.strip(), before.strip())


@router.get("/visits", response_class=HTMLResponse)
def visits_page(request: Request, console: Console, since: str = "", until: str = "", device: str = "",
                name: str = "", before: str = "") -> Response:
    """The timeline: newest first, a page at a time, filtered; the first page refreshes itself."""
    query = _query(since, until, device, name, before)
    try:
        context = _history(console, query.check())
    except ConsoleError as exc:
        return console.page(request, "visits.html", status_code=400, title="Visits", error=str(exc),
                            visits=[], older="", query=query, rows_url="", devices=console.backend.devices())
    return console.page(request, "visits.html", title="Visits", devices=console.backend.devices(), **context)


@router.get("/visits/rows", response_class=HTMLResponse)
def visit_rows(request: Request, console: Console, since: str = "", until: str = "", device: str = "",
               name: str = "", before: str = "") -> Response:
    """The visit list alone, which the first page re-fetches every few seconds: 304 while it is unchanged."""
    try:
        context = _history(console, _query(since, until, device, name, before).check())
    except ConsoleError as exc:
        return problem(400, "bad_filter", str(exc))
    response = console.fragment(request, "_visit_list.html", **context)
    tag = '"' + hashlib.sha256(bytes(response.body)).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return response


MISSING_CLIP = ("not in the bucket: it expired (clips are kept for the stack's retention, 30 days by default) "
                "or was never uploaded")
# The report names the visit's bundle before the device has uploaded it (it does so once the visit has ended).
BUNDLE_UPLOADING = "being uploaded: the device sends the visit's clips in one bundle once the visit has ended"
BUNDLE_WAIT_S = 86_400.0  # a bundle still not there a day after its visit is missing, not on its way


def _bundle_on_its_way(console: Console, visit: VisitRecord) -> bool:
    """True when the visit's bundle is not in the bucket yet but may still come (a recent visit)."""
    if not visit.bundle or console.backend.media.bundle_present(visit.bundle):
        return False
    try:
        ended = datetime.fromisoformat(visit.ended_at).timestamp()
    except ValueError:
        return False
    return console.backend.now() - ended < BUNDLE_WAIT_S


@router.get("/visits/{visit_id}", response_class=HTMLResponse)
def visit_page(request: Request, console: Console, visit_id: str, clip: str | None = None) -> Response:
    """One visit: its clips playing back to back as one film, its facts, every clip with faces; a clip that is
    gone says so."""
    visit = console.backend.visit(visit_id)
    if visit is None:
        return console.not_found(request, "visit", f"There is no visit {visit_id} (visits expire with their clips).")
    present = console.backend.media.present(visit.keys + [e.get("key", "") for e in visit.evidence if e.get("key")])
    film = [k for k in visit.keys if present.get(k)]
    console.backend.media.prepare(film)  # the player finds each copy ready as it reaches it
    start = film.index(clip) if clip in film else 0
    clips: dict[str, list[dict[str, Any]]] = {}
    for item in visit.evidence:
        clips.setdefault(item.get("key", ""), []).append(item)
    evidence = [(key, items, [FaceRef(visit.visit_id, key, box_tuple(i["box"]))
                              for i in items if isinstance(i.get("box"), dict)])
                for key, items in clips.items() if key]
    face = best_face(visit)
    missing = [k for k in visit.keys if not present.get(k)]
    uploading = bool(missing) and _bundle_on_its_way(console, visit)
    footage_from, footage_to = around_visit(visit)
    return console.page(request, "visit.html", title=f"Visit {visit.visit_id}", visit=visit,
                        playlist=playlist(film, visit.evidence), box_side=DEFAULT_MAX_SIDE, start=start,
                        present=present, missing=missing,
                        missing_reason=BUNDLE_UPLOADING if uploading else MISSING_CLIP, evidence=evidence,
                        face=face if face and present.get(face.key) else None, footage_from=footage_from,
                        footage_to=footage_to)


@router.get("/visits/{visit_id}/film")
def visit_film(console: Console, visit_id: str) -> Response:
    """The visit's clips that are still there as one WebM file, to download."""
    visit = console.backend.visit(visit_id)
    if visit is None:
        return problem(404, "no_such_visit", f"there is no visit {visit_id} (visits expire with their clips)")
    try:
        body = console.backend.media.film(visit.keys)
    except ClipMissing as exc:
        return problem(404, "clips_missing", str(exc))
    except ClipRefused as exc:
        return problem(422, "clip_refused", str(exc))
    return Response(body, media_type="video/webm",
                    headers={"Content-Disposition": f'attachment; filename="visit-{visit.visit_id}.webm"'})
