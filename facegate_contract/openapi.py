"""The OpenAPI document of the device API, generated from the contract's wire types.

    python -m facegate_contract.openapi > docs/openapi.json

The shipped `docs/openapi.json` is this module's output (a unit test keeps them equal), and the API's fuzz run
(tests/integration/test_api_fuzz.py) generates its requests from it: what the API is said to take and what it
validates are one definition.
"""
from __future__ import annotations

import json
from typing import Any

import msgspec

from facegate_contract.api import (API_KEY_HEADER, CLIP_KEY_HEADER, CLIP_LINKS_PATH, DOOR_REQUEST_STATUS_PATH,
                                   DOOR_REQUESTS_PATH, FOOTAGE_REQUESTS_PATH, FOOTAGE_RESULTS_PATH, FRAME_MEDIA_TYPES,
                                   MAX_FRAME_BYTES, RECOGNIZE_PATH, UPLOAD_GRANTS_PATH, UPLOADS_PATH,
                                   VISITS_PATH)
from facegate_contract.wire import ANSWERS, REQUESTS, ErrorBody

REF = "#/components/schemas/{name}"
SUMMARIES = {
    RECOGNIZE_PATH: "Recognise every face in a frame (JPEG or PNG); log a sighting per face.",
    UPLOADS_PATH: "A presigned PUT URL for one of the calling device's clips.",
    UPLOAD_GRANTS_PATH: "A presigned POST policy for many uploads under the calling device's own prefix (15 minutes).",
    CLIP_LINKS_PATH: "A presigned GET URL of one of the calling device's clips (for an alert's receiver).",
    VISITS_PATH: "Record a visit the device decided or ended.",
    DOOR_REQUESTS_PATH: "Ask an operator to open the door (confirm mode); answers the request's state.",
    DOOR_REQUEST_STATUS_PATH: "The state of one of the calling device's door requests (the device polls it).",
    FOOTAGE_REQUESTS_PATH: "The calling device's open footage requests (it polls, one call a minute by default).",
    FOOTAGE_RESULTS_PATH: "Answer one of the calling device's footage requests: uploaded (its bundle) or nothing kept.",
}
ROUTES = tuple(SUMMARIES)
MAX_CLIP_KEY_HEADER_CHARS = 512


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API (routes, bodies, answers, errors, the API key)."""
    kinds = [*REQUESTS.values(), *ANSWERS.values(), ErrorBody]
    refs, components = msgspec.json.schema_components(kinds, ref_template=REF)
    ref = dict(zip(kinds, refs))
    error = {"description": "`{error, message}`: what was wrong, in a word and a sentence",
             "content": _json(ref[ErrorBody])}
    paths: dict[str, Any] = {}
    for path in ROUTES:
        operation: dict[str, Any] = {
            "operationId": path.strip("/").replace("-", "_"),
            "summary": SUMMARIES[path],
            "security": [{"deviceKey": []}],
            "responses": {"200": {"description": "done", "content": _json(ref[ANSWERS[path]])},
                          "4XX": error, "5XX": error},
        }
        if path == RECOGNIZE_PATH:
            frame = {"type": "string", "format": "binary", "maxLength": MAX_FRAME_BYTES}
            operation["requestBody"] = {"required": True, "content": {t: {"schema": frame} for t in FRAME_MEDIA_TYPES}}
            operation["parameters"] = [{
                "name": CLIP_KEY_HEADER, "in": "header", "required": False,
                "description": "the clip the frame came from (one of the calling device's own)",
                "schema": {"type": "string", "maxLength": MAX_CLIP_KEY_HEADER_CHARS}}]
        else:
            operation["requestBody"] = {"required": True, "content": _json(ref[REQUESTS[path]])}
        paths[path] = {"post": operation}
    return {
        "openapi": "3.1.0",
        "info": {"title": "facegate device API", "version": "1",
                 "description": "What a door camera sends and gets. The device id comes from the API key, never "
                                "from the request: a device can name only its own clips, sightings and visits."},
        "servers": [{"url": "{api_url}", "variables": {"api_url": {
            "default": "https://example.execute-api.eu-west-1.amazonaws.com/live",
            "description": "the stage URL `facegate deploy` writes to the outputs and device files"}}}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "deviceKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}}},
    }


def render() -> str:
    """The document as the shipped file spells it."""
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
