"""The console's web app: server-rendered pages (Jinja2) and one small script for the live timeline; no build step,
nothing fetched from the internet.

Pages: /visits (the live timeline), /visits/<id> (one visit: its clip and faces), /strangers (unknown visits
grouped by face, to enrol or ignore), /people (the face library) and /people/<label>. Every route but /login and
/static needs a session; every form post carries the session's CSRF token.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from facegate_cli.console import auth
from facegate_cli.console.backend import ConsoleBackend, ConsoleError, Upload, best_face
from facegate_cli.console.clip_media import ClipMissing
from facegate_cli.console.clip_sandbox import ClipRefused
from facegate_cli.console.strangers import FaceRef, parse_token
from facegate_contract import UNDECIDED, UNKNOWN, is_label, parse_clip_key, plain_json
from facegate_contract.items import PERSON_KEY
from services.visit_log import SinceError, since_epoch

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
MAX_BODY_BYTES = 64 * 1024 * 1024  # a form with photos; anything larger is refused before it is read
LIVE_REFRESH_S = 3
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")  # the names a browser on this machine uses


# ---- template helpers ---------------------------------------------------------------------------------------------
def _when(iso: str) -> str:
    return iso[:19].replace("T", " ") + " UTC" if iso else "-"


def _clock(iso: str) -> str:
    return iso[11:19] if len(iso) >= 19 else iso


def _percent(value: Any) -> str:
    return f"{float(value) * 100:.0f}%" if isinstance(value, (int, float)) else "-"


def _box_tuple(box: dict[str, Any]) -> tuple[float, float, float, float]:
    """A reported face box as (x1, y1, x2, y2)."""
    return float(box["x1"]), float(box["y1"]), float(box["x2"]), float(box["y2"])


def _face_url(face: FaceRef | None, size: int = 160) -> str:
    return f"/faces?{urlencode({'token': face.token, 'size': size})}" if face else ""


def _decision_class(decision: str) -> str:
    return {UNKNOWN: "unknown", UNDECIDED: "undecided"}.get(decision, "known")


def _clip_label(key: str) -> str:
    parsed = parse_clip_key(key)
    return parsed[1] if parsed else key


def _details_text(details: dict[str, Any]) -> str:
    return json.dumps(plain_json(details), indent=2, sort_keys=True, default=str) if details else "{}"


def parse_details(text: str | None) -> dict[str, Any]:
    """The details form field: a JSON object (empty means none)."""
    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConsoleError(f"details must be a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise ConsoleError("details must be a JSON object, e.g. {\"allow_entry\": true}")
    value.pop(PERSON_KEY, None)
    return value


def _media_origin(backend: ConsoleBackend) -> str:
    """The origin presigned clip URLs point at (the page's Content-Security-Policy allows media from it)."""
    try:
        url = backend.media.link("clips/x.webm")
    except Exception:  # noqa: BLE001 - only narrows the policy; AWS's S3 hosts otherwise
        return "https://*.amazonaws.com"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def create_app(backend: ConsoleBackend, *, secure_cookies: bool = False, session_secret: str | None = None,
               throttle: auth.LoginThrottle | None = None,
               allowed_hosts: Sequence[str] = LOOPBACK_HOSTS) -> FastAPI:
    """The console for one stack. `session_secret`: signs session cookies (default: random per process);
    `allowed_hosts`: the Host names it answers to (any other is a 400: no DNS rebinding onto the console)."""
    app = FastAPI(title="facegate console", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.filters.update(when=_when, clock=_clock, percent=_percent, clip_label=_clip_label, details_text=_details_text)
    env.globals.update(face_url=_face_url, decision_class=_decision_class, best_face=best_face, csrf_field=auth.CSRF_FIELD,
                       live_refresh_ms=LIVE_REFRESH_S * 1000, quote=quote)
    throttle = throttle or auth.LoginThrottle()
    media_origin = _media_origin(backend)
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           f"media-src 'self' {media_origin}; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
           "base-uri 'none'; object-src 'none'")

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

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        flashes = request.session.pop("flash", []) if "session" in request.scope else []
        return templates.TemplateResponse(request, name, {"csrf": auth.csrf_token(request), "flashes": flashes,
                                                          "stack": backend.describe(), **context},
                                          status_code=status_code)

    def flash(request: Request, kind: str, text: str) -> None:
        request.session["flash"] = [*request.session.get("flash", []), {"kind": kind, "text": text}][-5:]

    def back(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    # ---- errors ------------------------------------------------------------------------------------------------
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
        return page(request, "error.html", status_code=403, title="Form expired",
                    message="This form was not sent from this console session (or the session ended). "
                            "Reload the page and try again.")

    # ---- login -------------------------------------------------------------------------------------------------
    def require_login(request: Request) -> None:
        record = backend.login_record()
        if not auth.signed_in(request, record.fingerprint if record else None):
            raise auth.NeedLogin()

    async def require_csrf(request: Request) -> None:
        form = await request.form()
        auth.check_csrf(request, form.get(auth.CSRF_FIELD))

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str | None = None) -> Response:
        missing = backend.login_record() is None
        return page(request, "login.html", title="Log in", next=auth.safe_next(next), no_password=missing)

    @app.post("/login", dependencies=[Depends(require_csrf)])
    async def login(request: Request, password: Annotated[str, Form()] = "",
                    next: Annotated[str, Form()] = "/visits") -> Response:
        client = request.client.host if request.client else "?"  # the socket peer: X-Forwarded-For is not trusted
        wait = throttle.reserve(client)
        if wait > 0:
            return page(request, "login.html", status_code=429, title="Log in", next=auth.safe_next(next),
                        error=f"Too many failed attempts: wait {int(wait) + 1} s and try again.")
        record = await asyncio.to_thread(backend.login_record)
        ok = record is not None and await asyncio.to_thread(record.verify, password)
        if not ok:
            log.warning("console login failed", extra={"client": client})
            await asyncio.sleep(0.3)
            return page(request, "login.html", status_code=401, title="Log in", next=auth.safe_next(next),
                        error="Wrong password." if record else "No console password is set for this stack.",
                        no_password=record is None)
        throttle.succeeded(client)
        assert record is not None
        auth.sign_in(request, record.fingerprint)
        log.info("console login", extra={"client": client})
        return back(auth.safe_next(next))

    @app.post("/logout", dependencies=[Depends(require_csrf)])
    def logout(request: Request) -> Response:
        auth.sign_out(request)
        return back("/login")

    # ---- everything else needs a session -------------------------------------------------------------------------
    router = APIRouter(dependencies=[Depends(require_login)])
    form_router = APIRouter(dependencies=[Depends(require_login), Depends(require_csrf)])

    @router.get("/")
    def home() -> Response:
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
    def visits_page(request: Request, since: str | None = None, device: str | None = None,
                    name: str | None = None) -> Response:
        query = {k: v for k, v in {"since": since, "device": device, "name": name}.items() if v}
        try:
            visits = backend.visits(**_filters(since, device, name))
            error = None
        except ConsoleError as exc:
            visits, error = [], str(exc)
        return page(request, "visits.html", title="Visits", visits=visits, query=query, error=error,
                    rows_url="/visits/rows" + (f"?{urlencode(query)}" if query else ""))

    @router.get("/visits/rows", response_class=HTMLResponse)
    def visit_rows(request: Request, since: str | None = None, device: str | None = None,
                   name: str | None = None) -> Response:
        try:
            visits = backend.visits(**_filters(since, device, name))
        except ConsoleError:
            visits = []
        return templates.TemplateResponse(request, "_visit_rows.html", {"visits": visits})

    @router.get("/visits/{visit_id}", response_class=HTMLResponse)
    def visit_page(request: Request, visit_id: str, clip: str | None = None) -> Response:
        visit = backend.visit(visit_id)
        if visit is None:
            return page(request, "error.html", status_code=404, title="No such visit",
                        message=f"There is no visit {visit_id} (visits expire with their clips).")
        playing = clip if clip in visit.keys or clip in {e.get("key") for e in visit.evidence} else visit.best_key
        clips: dict[str, list[dict[str, Any]]] = {}
        for item in visit.evidence:
            clips.setdefault(item.get("key", ""), []).append(item)
        evidence = [(key, items, [FaceRef(visit.visit_id, key, _box_tuple(i["box"]))
                                  for i in items if isinstance(i.get("box"), dict)])
                    for key, items in clips.items() if key]
        return page(request, "visit.html", title=f"Visit {visit.visit_id}", visit=visit, playing=playing,
                    evidence=evidence, face=best_face(visit))

    @router.get("/faces")
    def face_image(token: str, size: Annotated[int, Query(ge=32, le=480)] = 160) -> Response:
        parsed = parse_token(token)
        if parsed is None or parse_clip_key(parsed[0]) is None:
            return Response("not a face", status_code=400)
        key, box = parsed
        try:
            body = backend.media.face_jpeg(key, dict(zip(("x1", "y1", "x2", "y2"), box)), size)
        except (ClipMissing, ValueError) as exc:
            return Response(str(exc), status_code=404)
        return Response(body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/clips/play")
    def play_clip(key: str) -> Response:
        """A redirect to a presigned URL of a copy of the clip that the browser plays (made on first view)."""
        try:
            playable = backend.media.playable_key(key)
        except ClipMissing as exc:
            return Response(str(exc), status_code=404)
        except ClipRefused as exc:  # too large, too long or too slow to decode: never parsed in this process
            return Response(str(exc), status_code=422)
        return RedirectResponse(backend.media.link(playable), status_code=303)

    # ---- strangers ------------------------------------------------------------------------------------------------
    @router.get("/strangers", response_class=HTMLResponse)
    def strangers_page(request: Request) -> Response:
        library = backend.library()
        groups, faceless = backend.stranger_groups()
        return page(request, "strangers.html", title="Strangers", groups=groups, faceless=faceless,
                    known=[p.label for p in library.people])

    @form_router.post("/strangers/enrol")
    def strangers_enrol(request: Request, name: Annotated[str, Form()] = "",
                        face: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
                        visit: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
        label = name.strip().replace(" ", "_")
        try:
            result = backend.enrol_strangers(label, face, visit)
        except ConsoleError as exc:
            flash(request, "error", str(exc))
            return back("/strangers")
        flash(request, "ok", f"Enrolled {label} from {result.images_used} face(s) of {len(set(visit))} visit(s): "
                             f"model {result.version}. The recognizer uses it within its refresh period.")
        return back("/strangers")

    @form_router.post("/strangers/ignore")
    def strangers_ignore(request: Request, visit: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
        try:
            count = backend.ignore_strangers(visit)
        except ConsoleError as exc:
            flash(request, "error", str(exc))
            return back("/strangers")
        flash(request, "ok", f"Ignored {count} visit(s).")
        return back("/strangers")

    # ---- the face library -------------------------------------------------------------------------------------
    @router.get("/people", response_class=HTMLResponse)
    def people_page(request: Request) -> Response:
        return page(request, "people.html", title="Face library", library=backend.library())

    async def _uploads(photos: list[UploadFile]) -> list[Upload]:
        return [Upload(p.filename or "photo", await p.read()) for p in photos if p.filename]

    @form_router.post("/people")
    async def add_person(request: Request, name: Annotated[str, Form()] = "", details: Annotated[str, Form()] = "",
                         photos: Annotated[list[UploadFile], File()] = []) -> Response:  # noqa: B006
        label = name.strip().replace(" ", "_")
        try:
            extra = parse_details(details)
            result = await asyncio.to_thread(backend.enrol_uploads, label, await _uploads(photos), extra, False)
        except ConsoleError as exc:
            flash(request, "error", str(exc))
            return back("/people")
        _report_enrolment(request, result)
        return back(f"/people/{quote(label)}")

    def _report_enrolment(request: Request, result: Any) -> None:
        skipped = f"; {len(result.skipped)} photo(s) had no usable face" if result.skipped else ""
        flash(request, "ok", f"Enrolled {result.name} from {result.images_used} photo(s): model {result.version}{skipped}.")

    @router.get("/people/{label}", response_class=HTMLResponse)
    def person_page(request: Request, label: str) -> Response:
        entry, photos = backend.person(label)
        if entry is None:
            return page(request, "error.html", status_code=404, title="No such person",
                        message=f"{label} is not in the face library.")
        return page(request, "person.html", title=entry.display_name, person=entry, photos=photos)

    @router.get("/people/{label}/photos/{photo}")
    def person_photo(label: str, photo: str) -> Response:
        if not is_label(label):
            return Response("no such photo", status_code=404)
        try:
            body, media = backend.photo(label, photo)
        except Exception:  # noqa: BLE001 - a missing or foreign key reads as absent
            return Response("no such photo", status_code=404)
        return Response(body, media_type=media, headers={"Cache-Control": "private, max-age=3600"})

    @form_router.post("/people/{label}/photos")
    async def replace_photos(request: Request, label: str, mode: Annotated[str, Form()] = "replace",
                             photos: Annotated[list[UploadFile], File()] = []) -> Response:  # noqa: B006
        try:
            result = await asyncio.to_thread(backend.enrol_uploads, label, await _uploads(photos), None, mode == "add")
        except ConsoleError as exc:
            flash(request, "error", str(exc))
            return back(f"/people/{quote(label)}")
        _report_enrolment(request, result)
        return back(f"/people/{quote(label)}")

    @form_router.post("/people/{label}/details")
    def update_details(request: Request, label: str, details: Annotated[str, Form()] = "") -> Response:
        try:
            backend.update_details(label, parse_details(details))
        except ConsoleError as exc:
            flash(request, "error", str(exc))
        else:
            flash(request, "ok", f"Details of {label} saved.")
        return back(f"/people/{quote(label)}")

    @form_router.post("/people/{label}/remove")
    def remove_person(request: Request, label: str, confirm: Annotated[str, Form()] = "") -> Response:
        if confirm != label:
            flash(request, "error", f"Type {label} to confirm the removal.")
            return back(f"/people/{quote(label)}")
        try:
            result = backend.remove(label)
        except ConsoleError as exc:
            flash(request, "error", str(exc))
            return back(f"/people/{quote(label)}")
        model = f"model {result.version}" if result.version else "the model did not know them"
        flash(request, "ok", f"Removed {label}: {model}; {result.photos_deleted} photo(s) deleted.")
        return back("/people")

    app.include_router(router)
    app.include_router(form_router)

    @app.exception_handler(ConsoleError)
    async def console_error(request: Request, exc: ConsoleError) -> Response:
        return page(request, "error.html", status_code=400, title="Cannot do that", message=str(exc))

    return app

