"""The face library: people, their enrolment photos and details; add, replace, add to, remove."""
from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from facegate_cli.console.backend import ConsoleError, Upload
from facegate_cli.console.web import Console, back, flash, require_csrf, require_login
from facegate_contract import is_label
from facegate_contract.items import PERSON_KEY

router = APIRouter(dependencies=[Depends(require_login)])
CSRF = [Depends(require_csrf)]


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


async def _uploads(photos: list[UploadFile]) -> list[Upload]:
    return [Upload(p.filename or "photo", await p.read()) for p in photos if p.filename]


def _report_enrolment(request: Request, result: Any) -> None:
    skipped = f"; {len(result.skipped)} photo(s) had no usable face" if result.skipped else ""
    flash(request, "ok", f"Enrolled {result.name} from {result.images_used} photo(s): model {result.version}{skipped}.")


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request, console: Console) -> Response:
    """Everyone the library knows."""
    return console.page(request, "people.html", title="Face library", library=console.backend.library())


@router.post("/people", dependencies=CSRF)
async def add_person(request: Request, console: Console, name: Annotated[str, Form()] = "",
                     details: Annotated[str, Form()] = "",
                     photos: Annotated[list[UploadFile], File()] = []) -> Response:  # noqa: B006
    """Enrol a new person from photos."""
    label = name.strip().replace(" ", "_")
    try:
        extra = parse_details(details)
        result = await asyncio.to_thread(console.backend.enrol_uploads, label, await _uploads(photos), extra, False)
    except ConsoleError as exc:
        flash(request, "error", str(exc))
        return back("/people")
    _report_enrolment(request, result)
    return back(f"/people/{quote(label)}")


@router.get("/people/{label}", response_class=HTMLResponse)
def person_page(request: Request, console: Console, label: str) -> Response:
    """One person: photos, details, removal."""
    entry, photos = console.backend.person(label)
    if entry is None:
        return console.not_found(request, "person", f"{label} is not in the face library.")
    return console.page(request, "person.html", title=entry.display_name, person=entry, photos=photos)


@router.get("/people/{label}/photos/{photo}")
def person_photo(console: Console, label: str, photo: str) -> Response:
    """One enrolment photo."""
    if not is_label(label):
        return Response("no such photo", status_code=404)
    try:
        body, media = console.backend.photo(label, photo)
    except Exception:  # noqa: BLE001 - a missing or foreign key reads as absent
        return Response("no such photo", status_code=404)
    return Response(body, media_type=media, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/people/{label}/photos", dependencies=CSRF)
async def replace_photos(request: Request, console: Console, label: str, mode: Annotated[str, Form()] = "replace",
                         photos: Annotated[list[UploadFile], File()] = []) -> Response:  # noqa: B006
    """Replace (or add to) a person's photos: a new model version."""
    try:
        result = await asyncio.to_thread(console.backend.enrol_uploads, label, await _uploads(photos), None,
                                         mode == "add")
    except ConsoleError as exc:
        flash(request, "error", str(exc))
        return back(f"/people/{quote(label)}")
    _report_enrolment(request, result)
    return back(f"/people/{quote(label)}")


@router.post("/people/{label}/details", dependencies=CSRF)
def update_details(request: Request, console: Console, label: str, details: Annotated[str, Form()] = "") -> Response:
    """Save a person's details."""
    try:
        console.backend.update_details(label, parse_details(details))
    except ConsoleError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", f"Details of {label} saved.")
    return back(f"/people/{quote(label)}")


@router.post("/people/{label}/remove", dependencies=CSRF)
def remove_person(request: Request, console: Console, label: str, confirm: Annotated[str, Form()] = "") -> Response:
    """Remove a person (typed confirmation): a model version without them."""
    if confirm != label:
        flash(request, "error", f"Type {label} to confirm the removal.")
        return back(f"/people/{quote(label)}")
    try:
        result = console.backend.remove(label)
    except ConsoleError as exc:
        flash(request, "error", str(exc))
        return back(f"/people/{quote(label)}")
    model = f"model {result.version}" if result.version else "the model did not know them"
    flash(request, "ok", f"Removed {label}: {model}; {result.photos_deleted} photo(s) deleted.")
    return back("/people")
