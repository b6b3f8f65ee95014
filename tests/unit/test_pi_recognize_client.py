"""RecognizeClient against real HTTP servers on loopback: exactly one attempt per call, bounded by its timeout,
and every answer mapped to one of pi_app.transport.service_errors (retrying is the worker's gate's job)."""
from __future__ import annotations

import socket
import time
from email.utils import formatdate

import pytest

from facegate_contract.wire import Box, Face
from pi_app.transport.api_session import ApiSession, AttemptTimeout
from pi_app.transport.recognize_client import RecognizeClient
from pi_app.transport.service_errors import (ServiceAuthRejected, ServiceRefused, ServiceThrottled, ServiceUnavailable)
from tests.unit.pi_support import BOX, OK_BODY, hanging_server, scripted_server

QUICK = AttemptTimeout(connect_s=1.0, read_s=0.3)


def test_an_answer_is_read_and_the_request_carries_the_key_and_clip_key() -> None:
    with scripted_server([(200, OK_BODY)]) as server:
        client = RecognizeClient(server.url, ApiSession("secret-key"))
        answer = client.recognize(b"jpeg bytes", clip_key="clips/dev-1/x.mp4")

    assert answer.names == ["Eileen_Collins"] and answer.model_version == "m1" and answer.server_ms == 12
    (request,) = server.requests
    assert request["headers"]["x-api-key"] == "secret-key"
    assert request["headers"]["X-Facegate-Clip-Key"] == "clips/dev-1/x.mp4"
    assert "X-Facegate-Device" not in request["headers"]  # the API knows the device by its key
    assert request["body"] == b"jpeg bytes"


def test_a_5xx_is_not_retried_inside_the_client() -> None:
    with scripted_server([(503, {"error": "busy"}), (200, OK_BODY)]) as server:
        client = RecognizeClient(server.url, ApiSession("k"))
        with pytest.raises(ServiceUnavailable) as unavailable:
            client.recognize(b"jpeg")

    assert len(server.requests) == 1  # one attempt: the worker's gate decides when to try again
    assert unavailable.value.status == 503 and unavailable.value.retry_after_s is None


def test_a_503_passes_on_its_retry_after() -> None:
    with scripted_server([(503, {"error": "busy"}, {"Retry-After": "7"})]) as server:
        with pytest.raises(ServiceUnavailable) as unavailable:
            RecognizeClient(server.url, ApiSession("k")).recognize(b"jpeg")

    assert unavailable.value.retry_after_s == 7.0


def test_a_429_is_throttled_with_the_retry_after_date() -> None:
    when = formatdate(time.time() + 120, usegmt=True)
    with scripted_server([(429, {"error": "slow_down"}, {"Retry-After": when})]) as server:
        with pytest.raises(ServiceThrottled) as throttled:
            RecognizeClient(server.url, ApiSession("k")).recognize(b"jpeg")

    assert isinstance(throttled.value, ServiceUnavailable)  # a kind of "try again later"
    assert throttled.value.status == 429 and 115 <= throttled.value.retry_after_s <= 120


def test_a_400_is_refused() -> None:
    with scripted_server([(400, {"error": "bad_image", "message": "not an image"})]) as server:
        with pytest.raises(ServiceRefused) as refused:
            RecognizeClient(server.url, ApiSession("k")).recognize(b"garbage")

    assert (refused.value.status, refused.value.error) == (400, "bad_image")
    assert "400" in str(refused.value) and "not an image" in str(refused.value)


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_are_not_the_frames_fault(status: int) -> None:
    with scripted_server([(status, {"message": "Forbidden"})]) as server:
        with pytest.raises(ServiceAuthRejected) as rejected:
            RecognizeClient(server.url, ApiSession("revoked")).recognize(b"jpeg")

    assert not isinstance(rejected.value, ServiceRefused) and rejected.value.status == status


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = RecognizeClient(f"http://127.0.0.1:{port}/recognize", ApiSession("k"))

    with pytest.raises(ServiceUnavailable):
        client.recognize(b"jpeg")


def test_a_server_that_never_answers_costs_one_attempt_bounded_by_the_timeout() -> None:
    with hanging_server() as server:
        client = RecognizeClient(server.url, ApiSession("k", QUICK))
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="ReadTimeout"):
            client.recognize(b"jpeg")
        elapsed = time.monotonic() - started
        connections = server.connections

    assert QUICK.read_s <= elapsed < QUICK.total_s + 1.0  # not 4 retries of 30 s
    assert connections == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_never_followed_with_the_key(status: int) -> None:
    with scripted_server([(200, OK_BODY)]) as elsewhere:
        with scripted_server([(status, {}, {"Location": elsewhere.url})]) as api:
            session = ApiSession("secret-key")
            with pytest.raises(ServiceUnavailable) as unavailable:
                RecognizeClient(api.url, session).recognize(b"jpeg")
            with pytest.raises(ServiceUnavailable):
                session.post_json("visit report", api.url, {"visit_id": "v"})

    assert unavailable.value.status == status  # reported and retried by the gate like any unusable answer
    assert elsewhere.requests == []  # the key (and the frame) went nowhere else


@pytest.mark.parametrize("body", [{"faces": [{"name": "Eileen_Collins", "confidence": 0.99}], "model_version": "m1"},
                                  {"faces": [{"name": "Eileen_Collins", "confidence": 1.5, "box": BOX}],
                                   "model_version": "m1"},
                                  {"model_version": "m1"}, ["not", "an", "answer"]],
                         ids=["no-box", "confidence-out-of-range", "no-faces", "not-an-object"])
def test_an_answer_that_is_not_the_contracts_is_unavailable_not_an_empty_frame(body: object) -> None:
    with scripted_server([(200, body)]) as server:
        with pytest.raises(ServiceUnavailable, match="no face answer") as unavailable:
            RecognizeClient(server.url, ApiSession("k")).recognize(b"jpeg")

    assert unavailable.value.status == 200  # retried by the worker's gate, never taken for "no face"


def test_the_answer_is_decoded_once_into_the_contracts_faces() -> None:
    with scripted_server([(200, OK_BODY)]) as server:
        face, = RecognizeClient(server.url, ApiSession("k")).recognize(b"jpeg").faces

    assert isinstance(face, Face) and face.box == Box(**BOX) and face.door is False and face.descriptor is None
