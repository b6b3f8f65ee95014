"""What every route of the console shares: the app's state (backend, templates, login brake), page rendering with
flash messages, and the guards (a session; the session's CSRF token on a form post).

Routers reach the state through the `Console` dependency (`request.app.state.console`), so each area's routes live
in a module of their own under `routes/` and `create_app` only wires them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from facegate_cli.console import auth, formatting
from facegate_cli.console.backend import ConsoleBackend, best_face

HERE = Path(__file__).resolve().parent
LIVE_REFRESH_S = 3


def make_templates() -> Jinja2Templates:
    """The page templates with the console's filters and helpers."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(when=formatting.when, clock=formatting.clock, percent=formatting.percent,
                                 clip_label=formatting.clip_label, details_text=formatting.details_text,
                                 iso=formatting.iso)
    templates.env.globals.update(face_url=formatting.face_url, decision_class=formatting.decision_class,
                                 best_face=best_face, csrf_field=auth.CSRF_FIELD,
                                 live_refresh_ms=LIVE_REFRESH_S * 1000, quote=quote)
    return templates


@dataclass
class ConsoleState:
    """The console's shared state, kept on `app.state.console`."""

    backend: ConsoleBackend
    templates: Jinja2Templates
    throttle: auth.LoginThrottle

    def page(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A full page (the flash messages of the session are shown once)."""
        flashes = request.session.pop("flash", []) if "session" in request.scope else []
        return self.templates.TemplateResponse(request, name, {"csrf": auth.csrf_token(request), "flashes": flashes,
                                                               "stack": self.backend.describe(), **context},
                                               status_code=status_code)

    def not_found(self, request: Request, what: str, message: str = "") -> HTMLResponse:
        """The 404 page for an id that names no `what` ("visit", "door request", …), saying `message` or that no
        such thing has this id."""
        return self.page(request, "error.html", status_code=404, title=f"No such {what}",
                         message=message or f"No {what} has this id.")

    def fragment(self, request: Request, name: str, **context: Any) -> HTMLResponse:
        """A piece of a page (the live timeline's rows)."""
        return self.templates.TemplateResponse(request, name, context)


def console_state(request: Request) -> ConsoleState:
    """The `Console` dependency."""
    return request.app.state.console  # type: ignore[no-any-return]


Console = Annotated[ConsoleState, Depends(console_state)]


def flash(request: Request, kind: str, text: str) -> None:
    """A message shown on the next page (ok or error)."""
    request.session["flash"] = [*request.session.get("flash", []), {"kind": kind, "text": text}][-5:]


def back(url: str) -> RedirectResponse:
    """See-other to `url` (after a form post)."""
    return RedirectResponse(url, status_code=303)


def problem(status_code: int, error: str, message: str) -> JSONResponse:
    """A 4xx answer for a script or an <img>/<video> source: `{error, message}`."""
    return JSONResponse({"error": error, "message": message}, status_code=status_code)


def require_login(request: Request, console: Console) -> None:
    """A session made under the current password, else NeedLogin (a redirect to /login, or a 401)."""
    record = console.backend.login_record()
    if not auth.signed_in(request, record.fingerprint if record else None):
        raise auth.NeedLogin()


async def require_csrf(request: Request) -> None:
    """The form carries the session's CSRF token, else CsrfRejected (a 403 page)."""
    form = await request.form()
    auth.check_csrf(request, form.get(auth.CSRF_FIELD))
