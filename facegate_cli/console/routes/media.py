"""Clip media for the browser: a face's thumbnail and a playable copy of a clip."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse, Response

from facegate_cli.console.clip_media import ClipMissing
from facegate_cli.console.clip_sandbox import ClipRefused
from facegate_cli.console.strangers import parse_token
from facegate_cli.console.web import Console, problem, require_login
from facegate_contract import parse_clip_key

router = APIRouter(dependencies=[Depends(require_login)])


@router.get("/faces")
def face_image(console: Console, token: str, size: Annotated[int, Query(ge=32, le=480)] = 160) -> Response:
    """A JPEG of one face cut from its clip's recognised frame."""
    parsed = parse_token(token)
    if parsed is None or parse_clip_key(parsed[0]) is None:
        return problem(400, "not_a_face", "not a face token")
    key, box = parsed
    try:
        body = console.backend.media.face_jpeg(key, dict(zip(("x1", "y1", "x2", "y2"), box)), size)
    except (ClipMissing, ValueError) as exc:
        return problem(404, "face_missing", str(exc))
    return Response(body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/clips/play")
def play_clip(console: Console, key: str) -> Response:
    """A redirect to a presigned URL of a copy of the clip that the browser plays (made on first view)."""
    try:
        playable = console.backend.media.playable_key(key)
    except ClipMissing as exc:
        return problem(404, "clip_missing", str(exc))
    except ClipRefused as exc:  # too large, too long or too slow to decode: never parsed in this process
        return problem(422, "clip_refused", str(exc))
    return RedirectResponse(console.backend.media.link(playable), status_code=303)
