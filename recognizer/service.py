"""The recognizer service: one API Gateway proxy event in, one JSON response out.

Routes: /recognize (frame → faces with names and details; a sighting per face), /uploads and /clip-links (signed
URLs for the calling device's own clips), /visits (a device's report of a visit). The caller's device comes from
its API key. Client mistakes are 4xx JSON; a fault after the answer was computed (DynamoDB or S3 briefly
unavailable) degrades the answer, it never turns it into a 5xx.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import numpy as np

from facegate_contract import CLIP_LINKS_PATH, RECOGNIZE_PATH, UNKNOWN, UPLOADS_PATH, VISITS_PATH, parse_clip_key
from recognizer.api_event import FrameRequest, RequestError, api_key, frame_request, json_request, route
from recognizer.clip_transfers import ClipTransfers
from recognizer.device_identity import LocalDevice
from recognizer.faces import RecognizedFace
from recognizer.image_decode import ImageError, decode_image
from recognizer.model_source import ModelSource
from recognizer.people_details import PeopleDirectory
from recognizer.pipeline import FacePipeline
from recognizer.responses import error_response, json_response
from recognizer.sightings_log import SightingsLog

log = logging.getLogger(__name__)


class Devices(Protocol):
    """Which device an API key is (recognizer.device_identity)."""

    def device_for(self, api_key: str) -> str: ...


class VisitReports(Protocol):
    """Stores a device's visit reports (recognizer.visit_reports)."""

    def report(self, device: str, request: dict[str, Any]) -> dict[str, Any]: ...


class RecognizerService:
    """Holds everything loaded once per container and answers requests."""

    def __init__(self, pipeline: FacePipeline, models: ModelSource, people: PeopleDirectory | None = None,
                 sightings: SightingsLog | None = None, devices: Devices | None = None,
                 transfers: ClipTransfers | None = None, visits: VisitReports | None = None) -> None:
        self.pipeline = pipeline
        self.models = models
        self.people = people
        self.sightings = sightings
        self.devices = devices or LocalDevice()
        self.transfers = transfers
        self.visits = visits

    def warm_up(self) -> float:
        """Run the pipeline once on a synthetic frame so the first real request pays no lazy init."""
        t0 = time.perf_counter()
        frame = np.full((160, 160, 3), 127, dtype=np.uint8)
        self.pipeline.run(frame, self.models.classifier)
        return (time.perf_counter() - t0) * 1e3

    def handle(self, event: Any) -> dict[str, Any]:
        """Answer one proxy event; client mistakes become 4xx JSON."""
        try:
            path = route(event)
            if path == RECOGNIZE_PATH:
                request = frame_request(event)  # refuse a bad frame before any lookup
                device = self._device(event)
                return self._recognize(request, device)
            device = self._device(event)
            body = json_request(event)
            if path == UPLOADS_PATH:
                return json_response(200, self._transfers().upload(event, device, body))
            if path == CLIP_LINKS_PATH:
                return json_response(200, self._transfers().link(event, device, body))
            assert path == VISITS_PATH
            if self.visits is None:
                raise RequestError(404, "not_found", "visit reports are not kept by this deployment")
            return json_response(200, self.visits.report(device, body))
        except RequestError as exc:
            log.info("request refused", extra={"status": exc.status, "error": exc.kind})
            return error_response(exc.status, exc.kind, str(exc))
        except ImageError as exc:
            log.info("image refused", extra={"status": exc.status, "error": exc.kind})
            return error_response(exc.status, exc.kind, str(exc))
        except Exception:  # a bug, not the caller's fault: say so without details, log everything
            log.exception("request failed")
            return error_response(500, "internal_error", "the recognizer failed on this request; it has been logged")

    def _device(self, event: dict[str, Any]) -> str:
        try:
            return self.devices.device_for(api_key(event))
        except RequestError:
            raise
        except Exception as exc:  # the registry cannot be read: the caller may retry
            log.error("device lookup failed", extra={"error": repr(exc)[:300]})
            raise RequestError(503, "unavailable", "the device registry is unavailable; try again") from exc

    def _transfers(self) -> ClipTransfers:
        if self.transfers is None:
            raise RequestError(404, "not_found", "clip transfers are not offered by this deployment")
        return self.transfers

    def _recognize(self, request: FrameRequest, device: str) -> dict[str, Any]:
        if request.clip_key:
            owner = parse_clip_key(request.clip_key)
            if owner is None:
                raise RequestError(400, "bad_header", "X-Facegate-Clip-Key is not a clip key")
            if owner[0] != device:
                raise RequestError(403, "not_your_clip", "a device may name only its own clips")
        t0 = time.perf_counter()
        rgb = decode_image(request.body)
        t_decode = time.perf_counter()
        classifier = self.models.refresh()
        result = self.pipeline.run(rgb, classifier)
        faces = [RecognizedFace(d, i) for d, i in zip(result.detections, result.identities)]
        t_pipeline = time.perf_counter()
        self._add_details(faces)
        t_lookup = time.perf_counter()
        if self.sightings is not None and faces:
            for face, sighting in zip(faces, self.sightings.record(faces, device, request.clip_key,
                                                                   self.models.version)):
                face.sighting_id = sighting
        t_end = time.perf_counter()
        timings = {"decode": (t_decode - t0) * 1e3, **result.timings_ms, "lookup": (t_lookup - t_pipeline) * 1e3,
                   "sightings": (t_end - t_lookup) * 1e3, "total": (t_end - t0) * 1e3}
        payload = {
            "faces": [f.to_json() for f in faces],
            "model_version": self.models.version,
            "backend": classifier.backend,
            "image": {"width": int(rgb.shape[1]), "height": int(rgb.shape[0])},
            "timings_ms": {k: round(v, 2) for k, v in timings.items()},
        }
        log.info("recognized", extra={"faces": [f.identity.name for f in faces], "device": device,
                                      "total_ms": round(timings["total"], 1)})
        return json_response(200, payload)

    def _add_details(self, faces: list[RecognizedFace]) -> None:
        if self.people is None:
            return
        for face in faces:
            if face.identity.name == UNKNOWN:
                continue
            details = self.people.details(face.identity.name)
            face.details, face.details_available = (details, True) if details is not None else ({}, False)
