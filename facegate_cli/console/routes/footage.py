"""Footage requests: ask a device for the clips it kept on the device (an empty doorway never goes to S3) in a time
range, see each request's state, and play an uploaded one like a visit's clips (from its bundle). The device picks
a request up at its next poll (every 60 s by default). Only a logged-in operator asks, with a CSRF-checked form."""
from __future__ import annotations

import math
import time
from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate_cli.console.backend import ConsoleError
from facegate_cli.console.clip_media import DEFAULT_MAX_SIDE
from facegate_cli.console.film import playlist
from facegate_cli.console.history import moment_of
from facegate_cli.console.web import Console, ConsoleState, back, flash, require_csrf, require_login
from facegate_contract import FOOTAGE_MAX_RANGE_S
from services.visit_log import VisitRecord

router = APIRouter(dependencies=[Depends(require_login)])

AROUND_VISIT_S = 60.0  # "footage around this visit": this much before it starts and after it ends
FORM_TIME = "%Y-%m-%dT%H:%M:%S"  # UTC, as the form's fields read it back (services.visit_log.since_epoch)
STATES = {"requested": "Requested: the device uploads it at its next poll (every 2 minutes by default).",
          "uploaded": "Uploaded.", "nothing_kept": "Nothing kept: the device holds no clip of this range any more.",
          "expired": "Expired: the device did not answer within a day."}


def form_time(epoch_s: float) -> str:
    """A moment as the footage form takes it (UTC, whole seconds)."""
    return time.strftime(FORM_TIME, time.gmtime(epoch_s))


def around_visit(visit: VisitRecord) -> tuple[str, str]:
    """The form's range for the footage around a visit: a minute either side, at most FOOTAGE_MAX_RANGE_S long."""
    try:
        start = datetime.fromisoformat(visit.started_at).timestamp()
        end = datetime.fromisoformat(visit.ended_at).timestamp()
    except ValueError:
        return "", ""
    since = math.floor(start - AROUND_VISIT_S)
    return form_time(since), form_time(min(math.ceil(end + AROUND_VISIT_S), since + FOOTAGE_MAX_RANGE_S))


def _page(request: Request, console: ConsoleState, status_code: int = 200, error: str = "", **form: str) -> Response:
    now = console.backend.now()
    defaults = {"device": "", "since": form_time(now - 600), "until": form_time(now - 480)}
    return console.page(request, "footage.html", status_code=status_code, title="Footage",
                        requests=console.backend.footage_requests(), devices=console.backend.devices(),
                        states=STATES, max_range_s=FOOTAGE_MAX_RANGE_S, form={**defaults, **form}, error=error)


@router.get("/footage", response_class=HTMLResponse)
def footage_page(request: Request, console: Console) -> Response:
    """The footage requests, newest first, and the form to ask a device for a range."""
    return _page(request, console)


@router.post("/footage", dependencies=[Depends(require_csrf)])
def ask_footage(request: Request, console: Console, device: str = Form(""), since: str = Form(""),
                until: str = Form(""), visit_id: str = Form("")) -> Response:
    """Ask `device` for its kept clips of [since, until]; a range that cannot be asked for is a 400 page."""
    now = console.backend.now()
    try:
        record = console.backend.request_footage(device.strip(), moment_of("from", since.strip(), now),
                                                 moment_of("until", until.strip(), now), visit_id=visit_id.strip())
    except ConsoleError as exc:
        return _page(request, console, status_code=400, error=str(exc), device=device, since=since, until=until)
    flash(request, "ok", f"Asked {record.device} for its footage: it uploads what it kept at its next poll.")
    return back(f"/footage/{record.request_id}")


@router.get("/footage/{request_id}", response_class=HTMLResponse)
def footage_request_page(request: Request, console: Console, request_id: str) -> Response:
    """One footage request: its state, and once uploaded its clips played back to back."""
    record = console.backend.footage_request(request_id)
    if record is None:
        return console.not_found(request, "footage request")
    present = console.backend.media.present(record.clip_keys)
    film = [k for k in record.clip_keys if present.get(k)]
    console.backend.media.prepare(film)  # the player finds each copy ready as it reaches it
    return console.page(request, "footage_request.html", title=f"Footage from {record.device}", record=record,
                        states=STATES, playlist=playlist(film, []), box_side=DEFAULT_MAX_SIDE,
                        missing=len(record.clip_keys) - len(film), since=form_time(record.from_at),
                        until=form_time(record.to_at))
