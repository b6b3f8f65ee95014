"""Strangers to review: unknown visits grouped by face, to enrol as someone or ignore."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate_cli.console.backend import ConsoleError
from facegate_cli.console.web import Console, back, flash, require_csrf, require_login

router = APIRouter(dependencies=[Depends(require_login)])


@router.get("/strangers", response_class=HTMLResponse)
def strangers_page(request: Request, console: Console) -> Response:
    """The groups of unknown faces nobody reviewed yet."""
    library = console.backend.library()
    groups, faceless = console.backend.stranger_groups()
    return console.page(request, "strangers.html", title="Strangers", groups=groups, faceless=faceless,
                        known=[p.label for p in library.people])


@router.post("/strangers/enrol", dependencies=[Depends(require_csrf)])
def strangers_enrol(request: Request, console: Console, name: Annotated[str, Form()] = "",
                    face: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
                    visit: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
    """"This is First_Last": enrol the group's faces and mark its visits reviewed."""
    label = name.strip().replace(" ", "_")
    try:
        result = console.backend.enrol_strangers(label, face, visit)
    except ConsoleError as exc:
        flash(request, "error", str(exc))
        return back("/strangers")
    flash(request, "ok", f"Enrolled {label} from {result.images_used} face(s) of {len(set(visit))} visit(s): "
                         f"model {result.version}. The recognizer uses it within its refresh period.")
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
