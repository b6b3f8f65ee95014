"""RecognizeClient against a real HTTP server on loopback: retries 5xx and connection errors, never 4xx."""
from __future__ import annotations

import socket

import pytest

from pi_app.recognize_client import RecognizeClient, RecognizeRefused, RecognizeUnavailable
from tests.unit.pi_support import FAST_RETRIES, OK_BODY, scripted_server


def test_503_is_retried_until_the_answer_comes() -> None:
    with scripted_server([(503, {"error": "busy"}), (503, {"error": "busy"}), (200, OK_BODY)]) as server:
        client = RecognizeClient(server.url, "secret-key", device_id="dev-1", policy=FAST_RETRIES)
        answer = client.recognize(b"jpeg bytes", clip_key="clips/dev-1/x.mp4")

    assert answer.names == ["Eileen_Collins"] and answer.model_version == "m1" and answer.server_ms == 12
    assert len(server.requests) == 3
    headers = server.requests[-1]["headers"]
    assert headers["x-api-key"] == "secret-key"
    assert headers["X-Facegate-Clip-Key"] == "clips/dev-1/x.mp4"
    assert headers["X-Facegate-Device"] == "dev-1"
    assert server.requests[-1]["body"] == b"jpeg bytes"


def test_400_is_never_retried() -> None:
    with scripted_server([(400, {"error": "bad_image", "message": "not an image"}), (200, OK_BODY)]) as server:
        client = RecognizeClient(server.url, "k", device_id="dev-1", policy=FAST_RETRIES)
        with pytest.raises(RecognizeRefused) as refused:
            client.recognize(b"garbage")

    assert (refused.value.status, refused.value.error) == (400, "bad_image")
    assert len(server.requests) == 1


def test_5xx_that_never_ends_gives_up_after_the_policy_attempts() -> None:
    with scripted_server([(502, {"error": "bad gateway"})]) as server:
        client = RecognizeClient(server.url, "k", device_id="dev-1", policy=FAST_RETRIES)
        with pytest.raises(RecognizeUnavailable):
            client.recognize(b"jpeg")

    assert len(server.requests) == FAST_RETRIES.attempts + 1  # the first try and every retry


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = RecognizeClient(f"http://127.0.0.1:{port}/recognize", "k", device_id="dev-1", policy=FAST_RETRIES)

    with pytest.raises(RecognizeUnavailable):
        client.recognize(b"jpeg")
