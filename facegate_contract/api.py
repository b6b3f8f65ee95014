"""The device API: its routes, headers and limits."""
from __future__ import annotations

# ---- the API --------------------------------------------------------------------------------------------------
RECOGNIZE_PATH = "/recognize"  # POST a JPEG/PNG frame; answers faces with names
UPLOADS_PATH = "/uploads"  # POST {clip}: a presigned PUT URL for the calling device's own clip key
# POST {content_type, metadata}: a presigned POST policy for any key under the calling device's own prefix, reused
# for every upload of that kind until it expires (a few calls an hour instead of one an upload).
UPLOAD_GRANTS_PATH = "/upload-grants"
VISITS_PATH = "/visits"  # POST a visit report from the device (decision, clips, sightings)
CLIP_LINKS_PATH = "/clip-links"  # POST {key, expires_in}: a presigned GET URL of one of the device's clips
DOOR_REQUESTS_PATH = "/door-requests"  # POST a door request (confirm mode): an operator approves or denies it
DOOR_REQUEST_STATUS_PATH = "/door-request-status"  # POST {request_id}: the device polls its request's state
FOOTAGE_REQUESTS_PATH = "/footage-requests"  # POST {}: the calling device's open footage requests (it polls)
FOOTAGE_RESULTS_PATH = "/footage-results"  # POST {request_id, status, key, clips}: the device answers one of them
FOOTAGE_PATHS = (FOOTAGE_REQUESTS_PATH, FOOTAGE_RESULTS_PATH)  # the API's footage routes (services.http_api.ROUTES)
# A footage request the device has not answered within this long reads as expired (its clips are likely gone).
FOOTAGE_REQUEST_EXPIRES_S = 24 * 3600
# The longest range one footage request may ask for: ~600 clips of 0.5 s, well under MAX_CLIP_BYTES as one bundle.
FOOTAGE_MAX_RANGE_S = 300
# A door request waits at most this long for an operator: an approval after it never opens the door.
DOOR_REQUEST_MIN_EXPIRES_S, DOOR_REQUEST_MAX_EXPIRES_S = 5, 600
# Links are signed with the Lambda role's temporary credentials, which end within hours whatever a URL says.
CLIP_LINK_MAX_EXPIRES_S = 12 * 3600
API_KEY_HEADER = "x-api-key"
CLIP_KEY_HEADER = "X-Facegate-Clip-Key"  # which clip a recognised frame came from (stored with the sighting)
FRAME_MEDIA_TYPES = ("image/jpeg", "image/png")
# The largest frame the API takes. Base64 in the Lambda event (API Gateway encodes a binary body) must stay under
# Lambda's 6 MB invoke limit, which neither API Gateway nor the function can answer for: clients keep under this.
MAX_FRAME_BYTES = 4 * 1024 * 1024
# The largest clip a device may upload: the upload URL signs the clip's exact length, so nothing bigger reaches S3
# (a half-second clip is ~100 KB; the console decodes what is there, so a device cannot hand it a huge file).
MAX_CLIP_BYTES = 32 * 1024 * 1024
# S3 allows 2 KB of user metadata per object; keep room for the names.
MAX_METADATA_BYTES = 1800
# An upload grant's lifetime: as long as a per-upload URL's, so a removed device's last grant ends as soon (S3 takes a
# grant's uploads straight, with no API check). The Lambda signs with its role's temporary credentials, which may end
# sooner: the device then gets S3's refusal, drops the grant and asks for a new one.
UPLOAD_GRANT_EXPIRES_S = 900
