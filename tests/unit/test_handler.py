"""The real recognizer service (dlib pipeline, real photos) answering API Gateway proxy events."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from recognizer.training import fit as training
from recognizer.classify.artifact_store import write_local
from recognizer.classify.open_set import DOOR_FALLBACK_RATIO, OpenSetClassifier
from recognizer.training.dataset import LabelledImage
from recognizer.classify.model_source import ModelSource
from recognizer.pipeline import FacePipeline
from recognizer.recognize.service import RecognizerService
from tests.conftest import FIXTURE_IMAGES
from tests.unit.bad_inputs import bad_inputs


def event(body: bytes, content_type: str = "image/jpeg", method: str = "POST", path: str = "/recognize",
          base64_encoded: bool = True) -> dict:
    return {
        "httpMethod": method,
        "resource": path,
        "path": path,
        "headers": {"Content-Type": content_type, "X-Facegate-Device": "test-cam"},
        "body": base64.b64encode(body).decode() if base64_encoded else body.decode("latin-1"),
        "isBase64Encoded": base64_encoded,
    }


@pytest.fixture(scope="module")
def pipeline() -> FacePipeline:
    return FacePipeline.load("dlib")


@pytest.fixture(scope="module")
def service(pipeline: FacePipeline, enrol_images: list[Path], tmp_path_factory: pytest.TempPathFactory) -> RecognizerService:
    embedded = training.embed_images(pipeline, [LabelledImage(p, "Eileen_Collins") for p in enrol_images])
    classifier = OpenSetClassifier.empty("dlib", 0.55).with_person("Eileen_Collins", embedded.embeddings)
    model_dir = tmp_path_factory.mktemp("model")
    write_local(model_dir, classifier, {})
    return RecognizerService(pipeline, ModelSource(OpenSetClassifier.empty("dlib", 0.55), local_dir=model_dir))


def answer(service: RecognizerService, evt: dict) -> tuple[int, dict]:
    response = service.handle(evt)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def test_enrolled_person_is_recognised_on_a_held_out_photo(service: RecognizerService, probe_jpeg: bytes) -> None:
    status, body = answer(service, event(probe_jpeg))
    assert status == 200
    assert [f["name"] for f in body["faces"]] == ["Eileen_Collins"]
    face = body["faces"][0]
    assert 0.5 < face["confidence"] <= 1.0
    assert face["box"]["x2"] > face["box"]["x1"] and face["box"]["y2"] > face["box"]["y1"]
    assert set(body["timings_ms"]) >= {"detect", "embed", "classify", "total"}
    # one person, no cohort: door-grade only within the strict fallback door threshold
    assert face["door"] is (face["distance"] <= 0.55 * DOOR_FALLBACK_RATIO)


def test_png_body_works_like_jpeg(service: RecognizerService) -> None:
    import cv2

    png = cv2.imencode(".png", cv2.imread(str(FIXTURE_IMAGES / "probe_eileen_collins.jpg")))[1].tobytes()
    status, body = answer(service, event(png, "image/png"))
    assert status == 200 and [f["name"] for f in body["faces"]] == ["Eileen_Collins"]


def test_frame_without_a_face_is_200_with_no_faces(service: RecognizerService) -> None:
    status, body = answer(service, event((FIXTURE_IMAGES / "no_face.jpg").read_bytes()))
    assert status == 200 and body["faces"] == []


def test_stranger_is_unknown(service: RecognizerService, lfw_dev: Path) -> None:
    stranger = sorted((lfw_dev / "unknown").glob("*.jpg"))[0].read_bytes()
    status, body = answer(service, event(stranger))
    assert status == 200
    assert [f["name"] for f in body["faces"]][:1] == ["unknown"]
    assert body["faces"][0]["details"] == {}


@pytest.mark.parametrize("bad", bad_inputs((FIXTURE_IMAGES / "probe_eileen_collins.jpg").read_bytes()), ids=lambda b: b.kind)
def test_bad_input_gets_a_clear_4xx(service: RecognizerService, bad) -> None:
    status, body = answer(service, event(bad.body, bad.content_type))
    assert status == bad.status
    assert body["error"] == bad.error and body["message"]


def test_malformed_base64_is_400(service: RecognizerService) -> None:
    evt = event(b"x")
    evt["body"] = "this is not base64!!"
    status, body = answer(service, evt)
    assert (status, body["error"]) == (400, "malformed_base64")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_405(service: RecognizerService, probe_jpeg: bytes, method: str) -> None:
    status, body = answer(service, event(probe_jpeg, method=method))
    assert (status, body["error"]) == (405, "method_not_allowed")


def test_wrong_path_is_404(service: RecognizerService, probe_jpeg: bytes) -> None:
    status, body = answer(service, event(probe_jpeg, path="/detect"))
    assert (status, body["error"]) == (404, "not_found")


def test_event_that_is_not_a_proxy_event_is_400(service: RecognizerService) -> None:
    status, body = answer(service, ["not", "an", "event"])  # type: ignore[arg-type]
    assert (status, body["error"]) == (400, "bad_event")


def test_good_request_still_works_after_bad_ones(service: RecognizerService, probe_jpeg: bytes) -> None:
    for bad in bad_inputs(probe_jpeg):
        service.handle(event(bad.body, bad.content_type))
    status, body = answer(service, event(probe_jpeg))
    assert status == 200 and body["faces"][0]["name"] == "Eileen_Collins"
