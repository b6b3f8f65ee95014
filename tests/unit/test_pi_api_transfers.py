"""Clips through the API: ask for a presigned URL for the device's own key, PUT with exactly the signed headers,
and answer every failure in the worker's vocabulary so nothing is dropped."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from facegate_contract import CLIP_LINK_MAX_EXPIRES_S, clip_key
from facegate_rigs.scripted_server import serving
from pi_app.transport.api_clip_transfers import ApiClipLinks, ApiClipUploader
from pi_app.transport.api_session import ApiSession
from pi_app.transport.service_errors import ServiceAuthRejected, ServiceRefused, ServiceThrottled, ServiceUnavailable

CLIP = "20261129T101010.500Z-000007"
KEY = clip_key("door-1", CLIP)


class FakeApi(ThreadingHTTPServer):
    """/uploads grants a PUT URL back to this server; /clip-links answers a link; `answers` overrides a route."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.answers: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {}
        self.grant_key = KEY

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeApi

    def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _record(self) -> bytes:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                     "body": body})
        return body

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self._record())
        if self.path in self.server.answers:
            return self._answer(*self.server.answers[self.path])
        if self.path == "/uploads":
            return self._answer(200, {"key": self.server.grant_key, "url": f"{self.server.base}/signed?sig=1",
                                      "headers": {"Content-Type": "video/mp4", "x-amz-meta-names": "A_B"}})
        return self._answer(200, {"url": f"https://s3.example/{body['key']}?expires={body['expires_in']}"})

    def do_PUT(self) -> None:  # noqa: N802
        self._record()
        status, body, headers = self.server.answers.get("PUT", (200, {}, {}))
        self._answer(status, body, headers)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def fake_api() -> Iterator[FakeApi]:
    with serving(FakeApi()) as server:
        yield server


def test_an_upload_asks_for_the_clip_and_puts_with_the_signed_headers(clip: Path) -> None:
    with fake_api() as api:
        ApiClipUploader(ApiSession("dev-key"), f"{api.base}/uploads").upload(clip, KEY, {"names": "A_B"})
    ask, put = api.requests
    assert ask["headers"]["x-api-key"] == "dev-key"
    assert json.loads(ask["body"]) == {"clip": CLIP, "size": clip.stat().st_size, "metadata": {"names": "A_B"}}
    assert put["method"] == "PUT" and put["body"] == clip.read_bytes()
    assert put["headers"]["Content-Type"] == "video/mp4" and put["headers"]["x-amz-meta-names"] == "A_B"
    assert "x-api-key" not in put["headers"]  # the presigned URL carries its own signature


@pytest.mark.parametrize(("status", "kind"), [(403, ServiceAuthRejected), (429, ServiceThrottled),
                                              (503, ServiceUnavailable), (400, ServiceRefused)])
def test_a_refused_url_request_raises_the_workers_error_type(clip: Path, status: int, kind: type) -> None:
    with fake_api() as api:
        api.answers["/uploads"] = (status, {"error": "x", "message": "no"}, {"Retry-After": "7"})
        with pytest.raises(kind) as raised:
            ApiClipUploader(ApiSession("k"), f"{api.base}/uploads").upload(clip, KEY, {})
    if status in (429, 503):
        assert raised.value.retry_after_s == 7.0


def test_an_expired_or_refused_put_is_retried_later_not_dropped(clip: Path) -> None:
    with fake_api() as api:
        api.answers["PUT"] = (403, {"error": "AccessDenied"}, {})
        with pytest.raises(ServiceAuthRejected):
            ApiClipUploader(ApiSession("k"), f"{api.base}/uploads").upload(clip, KEY, {})


def test_a_grant_for_another_key_is_refused_before_anything_is_uploaded(clip: Path) -> None:
    with fake_api() as api:
        api.grant_key = clip_key("someone-else", CLIP)
        with pytest.raises(ServiceRefused, match="does not match"):
            ApiClipUploader(ApiSession("k"), f"{api.base}/uploads").upload(clip, KEY, {})
    assert [r["method"] for r in api.requests] == ["POST"]


def test_an_unreachable_api_is_unavailable(clip: Path) -> None:
    with pytest.raises(ServiceUnavailable):
        ApiClipUploader(ApiSession("k"), "http://127.0.0.1:9/uploads").upload(clip, KEY, {})


def test_clip_links_are_asked_for_with_a_lifetime_the_api_can_sign() -> None:
    with fake_api() as api:
        links = ApiClipLinks(ApiSession("k"), f"{api.base}/clip-links")
        assert links.url(KEY, 600).endswith("expires=600")
        assert links.url(KEY, 7 * 24 * 3600).endswith(f"expires={CLIP_LINK_MAX_EXPIRES_S}")


def test_a_visit_bundle_asks_for_its_own_bundle_key_and_puts_the_zip(clip: Path) -> None:
    from facegate_contract import bundle_key

    bundle = bundle_key("door-1", "20261129T101010.500Z-1a2b3c4d")
    with fake_api() as api:
        api.grant_key = bundle
        ApiClipUploader(ApiSession("k"), f"{api.base}/uploads").upload(clip, bundle, {"clips": "6"})
    ask, put = api.requests
    assert json.loads(ask["body"]) == {"bundle": bundle, "size": clip.stat().st_size, "metadata": {"clips": "6"}}
    assert put["method"] == "PUT" and put["body"] == clip.read_bytes()


def test_neither_a_clip_nor_a_bundle_key_is_refused_before_any_request(clip: Path) -> None:
    with fake_api() as api:
        with pytest.raises(ServiceRefused, match="not a clip or bundle key"):
            ApiClipUploader(ApiSession("k"), f"{api.base}/uploads").upload(clip, "clips/door-1/x.zip", {})
    assert api.requests == []
