"""The control function: the device's light calls, kept apart from recognition so that a busy recognizer never
holds up a clip's upload. POST /uploads (a presigned PUT for the device's own clip), /clip-links (a presigned GET
of one of its clips), /visits (a visit report). No models, no numpy: it starts in a fraction of a second."""
from __future__ import annotations

from typing import Any

from facegate_contract import CLIP_LINKS_PATH, UPLOADS_PATH, VISITS_PATH
from facegate_contract.wire import ClipLinkRequest, UploadRequest, VisitReport
from recognizer.api.event import json_request
from recognizer.control.clip_transfers import ClipTransfers
from recognizer.api.proxy_service import Devices, ProxyService
from recognizer.api.responses import json_response
from recognizer.control.visit_reports import VisitReports


# A bad field's error kind, per route (None: any other problem with the body).
UPLOAD_ERRORS = {"metadata": "bad_metadata", "size": "bad_size", None: "bad_clip_id"}
LINK_ERRORS = {"expires_in": "bad_expiry", None: "bad_clip_key"}
VISIT_ERRORS: dict[str | None, str] = {None: "bad_visit"}


class ControlService(ProxyService):
    """Signs clip transfers and keeps visit reports, for the calling device only."""

    def __init__(self, transfers: ClipTransfers, visits: VisitReports, devices: Devices | None = None) -> None:
        super().__init__({UPLOADS_PATH: self._upload, CLIP_LINKS_PATH: self._link, VISITS_PATH: self._visit}, devices)
        self.transfers = transfers
        self.visits = visits

    def _upload(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        return json_response(200, self.transfers.upload(event, device, json_request(event, UploadRequest, UPLOAD_ERRORS)))

    def _link(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        return json_response(200, self.transfers.link(event, device, json_request(event, ClipLinkRequest, LINK_ERRORS)))

    def _visit(self, event: dict[str, Any]) -> dict[str, Any]:
        device = self.device(event)
        return json_response(200, self.visits.report(device, json_request(event, VisitReport, VISIT_ERRORS)))
