"""The console's web app: server-rendered pages (Jinja2) and one small script for the live timeline; no build step,
nothing fetched from the internet.

Pages: /visits (the live timeline), /visits/<id> (one visit: its clips and faces), /strangers (unknown visits
grouped by face, to enrol or ignore), /people (the face library) and /people/<label>,
/door-requests (confirm mode: Approve / Deny), /footage (ask a device for the clips it kept of a range; play them).
Every route but /login and
/static needs a session; every form post carries the session's CSRF token. The routes live by area in `routes/`;
this module wires them with the security headers, the session and the error pages.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from facegate_cli.console import auth
from facegate_cli.console.backend import ConsoleBackend, ConsoleError
from facegate_cli.console.routes import doors, footage, login, media, people, strangers, visits
from facegate_cli.console.web import HERE, ConsoleState, back, make_templates

MAX_BODY_BYTES = 64 * 1024 * 1024  # a form with photos; anything larger is refused before it is read
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")  # the names a browser on this machine uses
ROUTERS = (login.router, visits.router, media.router, strangers.router, people.router, doors.router, footage.router)


def _media_origin(backend: ConsoleBackend) -> str:
    """The origin presigned clip URLs point at (the page's Content-Security-Policy allows media from it)."""
    try:
        url = backend.media.link("clips/x.webm")
    except Exception:  # noqa: BLE001 - only narrows the policy; AWS's S3 hosts otherwise
        return "https://*.amazonaws.com"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(media_origin: str) -> str:
    """Scripts and styles from the console only; media from the console and the bucket's host."""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"media-src 'self' {media_origin}; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'; object-src 'none'")


def create_app(backend: ConsoleBackend, *, secure_cookies: bool = False, session_secret: str | None = None,
               throttle: auth.LoginThrottle | None = None,
               allowed_hosts: Sequence[str] = LOOPBACK_HOSTS) -> FastAPI:
    """The console for one stack. `session_secret`: signs session cookies (default: random per process);
    `allowed_hosts`: the Host names it answers to (any other is a 400: no DNS rebinding onto the console)."""
    app = FastAPI(title="facegate console", docs_url=None, redoc_url=None, openapi_url=None)
    state = ConsoleState(backend, make_templates(), throttle or auth.LoginThrottle())
    app.state.console = state
    csp = content_security_policy(_media_origin(backend))

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return Response("request too large", status_code=413)
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"  # presigned URLs must not leak through Referer
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(SessionMiddleware, secret_key=session_secret or secrets.token_urlsafe(32),
                       session_cookie=auth.SESSION_COOKIE, max_age=auth.SESSION_HOURS * 3600, same_site="strict",
                       https_only=secure_cookies)
    # Added last, so it runs first: a page served under a rebound name never reaches the session or the routes.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))

    @app.exception_handler(auth.NeedLogin)
    async def need_login(request: Request, exc: auth.NeedLogin) -> Response:
        wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "") and \
            request.headers.get("x-requested-with") != "fetch"
        if wants_page:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return back(f"/login?{urlencode({'next': target})}")
        return JSONResponse({"error": "login required"}, status_code=401)

    @app.exception_handler(auth.CsrfRejected)
    async def csrf_rejected(request: Request, exc: auth.CsrfRejected) -> Response:
        return state.page(request, "error.html", status_code=403, title="Form expired",
                          message="This form was not sent from this console session (or the session ended). "
                                  "Reload the page and try again.")

    @app.exception_handler(ConsoleError)
    async def console_error(request: Request, exc: ConsoleError) -> Response:
        return state.page(request, "error.html", status_code=400, title="Cannot do that", message=str(exc))

    for router in ROUTERS:
        app.include_router(router)
    return app
