"""Log in and out: the only routes (with /static) that need no session."""
from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from facegate_cli.console import auth
from facegate_cli.console.web import Console, back, require_csrf

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, console: Console, next: str | None = None) -> Response:
    """The password form."""
    missing = console.backend.login_record() is None
    return console.page(request, "login.html", title="Log in", next=auth.safe_next(next), no_password=missing)


@router.post("/login", dependencies=[Depends(require_csrf)])
async def login(request: Request, console: Console, password: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/visits") -> Response:
    """Check the password (braked per address) and open a session."""
    client = request.client.host if request.client else "?"  # the socket peer: X-Forwarded-For is not trusted
    wait = console.throttle.reserve(client)
    if wait > 0:
        return console.page(request, "login.html", status_code=429, title="Log in", next=auth.safe_next(next),
                            error=f"Too many failed attempts: wait {int(wait) + 1} s and try again.")
    record = await asyncio.to_thread(console.backend.login_record)
    ok = record is not None and await asyncio.to_thread(record.verify, password)
    if not ok:
        log.warning("console login failed", extra={"client": client})
        await asyncio.sleep(0.3)
        return console.page(request, "login.html", status_code=401, title="Log in", next=auth.safe_next(next),
                            error="Wrong password." if record else "No console password is set for this stack.",
                            no_password=record is None)
    console.throttle.succeeded(client)
    assert record is not None
    auth.sign_in(request, record.fingerprint)
    log.info("console login", extra={"client": client})
    return back(auth.safe_next(next))


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request) -> Response:
    """End the session."""
    auth.sign_out(request)
    return back("/login")
