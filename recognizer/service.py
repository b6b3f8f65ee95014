"""The recognizer service: one API Gateway proxy event in, one JSON response out."""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from recognizer.api_event import RequestError, parse_event
from recognizer.faces import UNKNOWN, RecognizedFace
from recognizer.image_decode import ImageError, decode_image
from recognizer.model_source import ModelSource
from recognizer.people_details import PeopleDirectory
from recognizer.pipeline import FacePipeline
from recognizer.responses import error_response, json_response
from recognizer.sightings_log import SightingsLog

log = logging.getLogger(__name__)


class RecognizerService:
    """Holds everything loaded once per container and answers requests."""

    def __init__(self, pipeline: FacePipeline, models: ModelSource,
                 people: PeopleDirectory | None = None, sightings: SightingsLog | None = None) -> None:
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

    def handle(self, event: Any) -> dict[str, Any]:
        """Answer one proxy event; client mistakes become 4xx JSON, never a 5xx."""
        t0 = time.perf_counter()
        try:
            request = parse_event(event)
            t_parse = time.perf_counter()
            rgb = decode_image(request.body)
        except RequestError as exc:
            log.info("request refused", extra={"status": exc.status, "error": exc.kind})
            return error_response(exc.status, exc.kind, str(exc))
        except ImageError as exc:
            log.info("image refused", extra={"status": exc.status, "error": exc.kind})
            return error_response(exc.status, exc.kind, str(exc))
        try:
            classifier = self.models.refresh()
            t_decode = time.perf_counter()
            result = self.pipeline.run(rgb, classifier)
            faces = [RecognizedFace(d, i) for d, i in zip(result.detections, result.identities)]
            for face in faces:
                if face.identity.name != UNKNOWN and self.people is not None:
                    face.details = self.people.details(face.identity.name)
            t_lookup = time.perf_counter()
            if self.sightings is not None and faces:
                self.sightings.record(faces, request.device, request.clip_key, self.models.version)
        except Exception:
            log.exception("recognition failed")
            return error_response(500, "internal_error", "the recognizer failed on this frame; it has been logged")
        t_end = time.perf_counter()
        timings = {"decode": (t_decode - t_parse) * 1e3, **result.timings_ms,
                   "lookup": (t_lookup - t_decode) * 1e3 - sum(result.timings_ms.values()),
                   "sightings": (t_end - t_lookup) * 1e3, "total": (t_end - t0) * 1e3}
        payload = {
            "faces": [f.to_json() for f in faces],
            "model_version": self.models.version,
            "backend": classifier.backend,
            "image": {"width": int(rgb.shape[1]), "height": int(rgb.shape[0])},
            "timings_ms": {k: round(v, 2) for k, v in timings.items()},
        }
        log.info("recognized", extra={"faces": [f.identity.name for f in faces], "device": request.device,
                                      "total_ms": round(timings["total"], 1)})
        return json_response(200, payload)
