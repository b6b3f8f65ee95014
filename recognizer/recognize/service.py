"""The recognizer service: POST /recognize, one frame in, every face with its name and details out, a sighting per
face. The caller's device comes from its API key. Client mistakes are 4xx JSON; a fault after the answer was
computed (DynamoDB briefly unavailable) degrades the answer, it never turns it into a 5xx.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from facegate_contract import RECOGNIZE_PATH, UNKNOWN, parse_clip_key
from facegate_contract.wire import ImageSize, RecognizeAnswer
from recognizer.api.event import FrameRequest, RequestError, frame_request
from recognizer.faces import RecognizedFace
from recognizer.image_decode import decode_image
from recognizer.classify.model_source import ModelSource
from recognizer.recognize.people_details import PeopleDirectory
from recognizer.pipeline import FacePipeline
from recognizer.api.proxy_service import Devices, ProxyService
from recognizer.api.responses import json_response
from recognizer.recognize.sightings_log import SightingsLog

log = logging.getLogger(__name__)


class RecognizerService(ProxyService):
    """Holds everything loaded once per container and answers recognitions."""

    def __init__(self, pipeline: FacePipeline, models: ModelSource, people: PeopleDirectory | None = None,
                 sightings: SightingsLog | None = None, devices: Devices | None = None) -> None:
        super().__init__({RECOGNIZE_PATH: self._recognize_event}, devices)
        self.pipeline = pipeline
        self.models = models
        self.people = people
        self.sightings = sightings

    def warm_up(self) -> float:
        """Run the pipeline once on a synthetic frame so the first real request pays no lazy init."""
        t0 = time.perf_counter()
        frame = np.full((160, 160, 3), 127, dtype=np.uint8)
        self.pipeline.run(frame, self.models.classifier)
        return (time.perf_counter() - t0) * 1e3

    def _recognize_event(self, event: dict[str, Any]) -> dict[str, Any]:
        request = frame_request(event)  # a bad frame is refused before any lookup
        return self._recognize(request, self.device(event))

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
        descriptors = result.descriptors or [None] * len(result.detections)
        faces = [RecognizedFace(d, i, descriptor=c)
                 for d, i, c in zip(result.detections, result.identities, descriptors)]
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
        payload = RecognizeAnswer(
            faces=[f.to_wire() for f in faces], model_version=self.models.version, backend=classifier.backend,
            image=ImageSize(width=int(rgb.shape[1]), height=int(rgb.shape[0])),
            timings_ms={k: round(v, 2) for k, v in timings.items()})
        log.info("recognized", extra={"faces": [f.identity.name for f in faces],
                                      "door": [f.identity.door for f in faces], "device": device,
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
