"""Strangers to review: unknown visits grouped by face; enrol a chosen subset of a group's faces as someone (after a
confirm step that warns when they are close to someone enrolled, and with an undo), or ignore the group."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from facegate_cli.console.backend import ConsoleError
from facegate_cli.console.web import Console, back, flash, require_csrf, require_login

router = APIRouter(dependencies=[Depends(require_login)])
UNDO_SESSION_KEY = "undo"


def _label(name: str) -> str:
    return name.strip().replace(" ", "_")


@router.get("/strangers", response_class=HTMLResponse)
def strangers_page(request: Request, console: Console) -> Response:
    """The groups of unknown faces nobody reviewed yet (and the undo of the latest enrolment, while it lasts)."""
    library = console.backend.library()
    groups, faceless = console.backend.stranger_groups()
    token = request.session.get(UNDO_SESSION_KEY)
    undo = console.backend.undos.peek(token) if isinstance(token, str) else None
    return console.page(request, "strangers.html", title="Strangers", groups=groups, faceless=faceless,
                        known=[p.label for p in library.people], undo=undo, undo_token=token if undo else "")


@router.get("/strangers/confirm", response_class=HTMLResponse)
def strangers_confirm(request: Request, console: Console, name: str = "",
                      face: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
                      visit: Annotated[list[str], Query()] = []) -> Response:  # noqa: B006
    """The confirm step: the chosen faces, the name, and who enrolled they are close to."""
    label = _label(name)
    faces, close = console.backend.preview_strangers(label, face, visit)  # ConsoleError: a 400 page
    return console.page(request, "strangers_confirm.html", title=f"Enrol {label}?", label=label, faces=faces,
                        visits=list(dict.fromkeys(visit)), close=close, entry=console.backend.library().get(label))


@router.post("/strangers/enrol", dependencies=[Depends(require_csrf)])
def strangers_enrol(request: Request, console: Console, name: Annotated[str, Form()] = "",
                    face: Annotated[list[str], Form()] = [],  # noqa: B006
                    visit: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
    """"This is First_Last": enrol the chosen faces and mark their visits reviewed."""
    label = _label(name)
    try:
        done = console.backend.enrol_strangers(label, face, visit)
    except ConsoleError as exc:
        flash(request, "error", str(exc))
        return back("/strangers")
    request.session[UNDO_SESSION_KEY] = done.undo_token
    flash(request, "ok", f"Enrolled {label} from {done.result.images_used} face(s) of {done.visits} visit(s): "
                         f"model {done.result.version}. The recognizer uses it within its refresh period.")
    return back("/strangers")


@router.post("/strangers/undo", dependencies=[Depends(require_csrf)])
def strangers_undo(request: Request, console: Console, token: Annotated[str, Form()] = "") -> Response:
    """Take back the latest enrolment: the person as before, their visits back to review."""
    try:
        record = console.backend.undo_enrolment(token)
    except ConsoleError as exc:
        flash(request, "error", str(exc))
        return back("/strangers")
    request.session.pop(UNDO_SESSION_KEY, None)
    what = "removed them" if record.was_new else "their earlier faces are back"
    flash(request, "ok", f"Undid the enrolment of {record.label} ({what}); {len(record.visit_ids)} visit(s) are "
                         "back to review.")
    return back("/strangers")


@router.post("/strangers/ignore", dependencies=[Depends(require_csrf)])
def strangers_ignore(request: Request, console: Console,
                     visit: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
    """Mark the group's visits ignored."""
    try:
        count = console.backend.ignore_strangers(visit)
    except ConsoleError as exc:
        flash(request, "error", str(exc))
        return back("/strangers")
    flash(request, "ok", f"Ignored {count} visit(s).")
    return back("/strangers")
