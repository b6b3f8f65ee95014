"""The control function: the device's light calls, kept apart from recognition so that a busy recognizer never
holds up a clip's upload. POST /uploads (a presigned PUT for the device's own clip), /upload-grants (a presigned POST
policy for many uploads under its own prefix), /clip-links (a presigned GET
of one of its clips), /visits (a visit report), /door-requests and /door-request-status (confirm mode),
/footage-requests and /footage-results (the console's requests for kept footage). No models, no numpy: it starts in
a fraction of a second."""
from __future__ import annotations

from typing import Any

from facegate_contract import (CLIP_LINKS_PATH, DOOR_REQUEST_STATUS_PATH, DOOR_REQUESTS_PATH, FOOTAGE_REQUESTS_PATH,
                               FOOTAGE_RESULTS_PATH, UPLOAD_GRANTS_PATH, UPLOADS_PATH, VISITS_PATH)
from facegate_contract.wire import (ClipLinkRequest, DoorRequest, DoorRequestQuery, FootageRequestsQuery, FootageResult,
                                    UploadGrantRequest, UploadRequest, VisitReport)
from recognizer.api.event import json_request
from recognizer.control.clip_transfers import ClipTransfers
from recognizer.api.proxy_service import Devices, ProxyService, Route
from recognizer.api.responses import json_response
from recognizer.control.door_requests import DoorRequests
from recognizer.control.footage_requests import FootageLog
from recognizer.control.visit_reports import VisitReports


# A bad field's error kind, per route (None: any other problem with the body).
UPLOAD_ERRORS = {"metadata": "bad_metadata", "size": "bad_size", "bundle": "bad_bundle_key", None: "bad_clip_id"}
GRANT_ERRORS = {"content_type": "bad_content_type", "metadata": "bad_metadata", None: "bad_upload_grant"}
LINK_ERRORS = {"expires_in": "bad_expiry", None: "bad_clip_key"}
VISIT_ERRORS: dict[str | None, str] = {None: "bad_visit"}
DOOR_ERRORS = {"expires_in": "bad_expiry", "clip_key": "bad_clip_key", None: "bad_door_request"}
FOOTAGE_ERRORS = {"key": "bad_footage_key", "clips": "bad_clips", None: "bad_footage_result"}


class ControlService(ProxyService):
    """Signs clip transfers and keeps visit reports, for the calling device only."""

    def __init__(self, transfers: ClipTransfers, visits: VisitReports, devices: Devices | None = None,
                 doors: DoorRequests | None = None, footage: FootageLog | None = None) -> None:
        routes: dict[str, Route] = {UPLOADS_PATH: self._upload, UPLOAD_GRANTS_PATH: self._grant,
                                    CLIP_LINKS_PATH: self._link, VISITS_PATH: self._visit}
        if doors is not None:
            routes |= {DOOR_REQUESTS_PATH: self._door_request, DOOR_REQUEST_STATUS_PATH: self._door_status}
        if footage is not None:
            routes |= {FOOTAGE_REQUESTS_PATH: self._footage_requests, FOOTAGE_RESULTS_PATH: self._footage_result}
        super().__init__(routes, devices)
        self.transfers = transfers
        self.visits = visits
        self.doors = doors
        self.footage = footage

    def _upload(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        return json_response(200, self.transfers.upload(event, device, json_request(event, UploadRequest, UPLOAD_ERRORS)))

    def _grant(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        return json_response(200, self.transfers.grant(event, device, json_request(event, UploadGrantRequest,
                                                                                      GRANT_ERRORS)))

    def _link(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        return json_response(200, self.transfers.link(event, device, json_request(event, ClipLinkRequest, LINK_ERRORS)))

    def _visit(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        return json_response(200, self.visits.report(device, json_request(event, VisitReport, VISIT_ERRORS)))

    def _door_request(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        assert self.doors is not None  # routed only when there is one
        return json_response(200, self.doors.file(device, json_request(event, DoorRequest, DOOR_ERRORS)))

    def _door_status(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        assert self.doors is not None
        query = json_request(event, DoorRequestQuery, {None: "bad_request_id"})
        return json_response(200, self.doors.state(device, query.request_id))

    def _footage_requests(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        assert self.footage is not None  # routed only when there is one
        json_request(event, FootageRequestsQuery, {None: "bad_request"})
        return json_response(200, self.footage.open_for(device))

    def _footage_result(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        assert self.footage is not None
        return json_response(200, self.footage.answer(device, json_request(event, FootageResult, FOOTAGE_ERRORS)))
