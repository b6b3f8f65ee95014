"""Door requests (confirm mode): the pending requests with who, when, the face and the clip, and Approve / Deny.
Only a logged-in operator sees or decides them, every decision is a CSRF-checked form post, and an expired or
decided request can no longer be decided (services.door_log makes that one conditional write)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from facegate_cli.console.backend import ConsoleError, best_face
from facegate_cli.console.web import Console, ConsoleState, back, flash, require_csrf, require_login
from services.door_log import DoorRequestRecord

router = APIRouter(dependencies=[Depends(require_login)])


def _shown(console: ConsoleState, record: DoorRequestRecord) -> dict[str, Any]:
    """A request with its visit's face (when the visit and its clip are there) and time left."""
    visit = console.backend.visit(record.visit_id) if record.visit_id else None
    left = max(0, int(record.state.expires_at - console.backend.now())) if record.pending else 0
    return {"record": record, "face": best_face(visit) if visit else None, "visit": visit, "left_s": left}


@router.get("/door-requests", response_class=HTMLResponse)
def door_requests_page(request: Request, console: Console) -> Response:
    """The newest door requests, pending ones first."""
    records = console.backend.door_requests()
    records.sort(key=lambda r: not r.pending)  # stable: newest first within each group
    return console.page(request, "door_requests.html", title="Door requests",
                        requests=[_shown(console, r) for r in records])


@router.get("/door-requests/{request_id}", response_class=HTMLResponse)
def door_request_page(request: Request, console: Console, request_id: str) -> Response:
    """One door request (an alert links here): Approve / Deny while it is pending."""
    record = console.backend.door_request(request_id)
    if record is None:
        return console.not_found(request, "door request")
    return console.page(request, "door_request.html", title=f"Door request: {record.name}", **_shown(console, record))


def _decide(request: Request, console: ConsoleState, request_id: str, approve: bool) -> Response:
    try:
        record = console.backend.decide_door(request_id, approve)
    except ConsoleError as exc:
        flash(request, "error", str(exc))
        return back(f"/door-requests/{request_id}" if console.backend.door_request(request_id) else "/door-requests")
    flash(request, "ok", f"{'Approved' if approve else 'Denied'}: the door at {record.device} "
                         f"{'opens for' if approve else 'stays shut for'} {record.name}.")
    return back(f"/door-requests/{request_id}")


@router.post("/door-requests/{request_id}/approve", dependencies=[Depends(require_csrf)])
def approve_door(request: Request, console: Console, request_id: str) -> Response:
    """Approve: the device polling this request opens the door once."""
    return _decide(request, console, request_id, approve=True)


@router.post("/door-requests/{request_id}/deny", dependencies=[Depends(require_csrf)])
def deny_door(request: Request, console: Console, request_id: str) -> Response:
    """Deny: the door stays shut."""
    return _decide(request, console, request_id, approve=False)
