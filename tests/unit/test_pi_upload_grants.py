"""The device's uploads through an upload grant: one grant call for many uploads, renewed before it expires and
once when S3 refuses it, a multipart POST whose file comes last, and every failure in the worker's vocabulary.

The fake stack signs real grants (the control Lambda's ClipTransfers) and its fake S3 checks each form by S3's POST
policy rules (tests/unit/s3_post_policy.py), so a form the device gets wrong is refused as S3 would."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from facegate_contract import UPLOAD_GRANT_EXPIRES_S, bundle_key, clip_key
from facegate_contract.wire import UploadGrantRequest, decode, encode
from facegate_rigs.scripted_server import serving
from pi_app.transport.api_clip_transfers import GRANT_RENEW_BEFORE_S, ApiClipUploader
from pi_app.transport.api_session import ApiSession
from pi_app.transport.service_errors import ServiceAuthRejected, ServiceRefused, ServiceThrottled, ServiceUnavailable
from recognizer.control.clip_transfers import ClipTransfers, s3_presigner
from tests.unit.pi_support import FakeClock
from tests.unit.s3_post_policy import parse_form, refusal

CLIP = "20261129T101010.500Z-000007"
KEY = clip_key("door-1", CLIP)
METADATA = {"device": "door-1", "recognition": "recognised", "frames": "10", "names": "Eileen_Collins"}
BUCKET = "clips-bucket"


def s3_error(status: int, code: str) -> tuple[int, bytes, str]:
    return status, f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>no</Message></Error>".encode(), "text/xml"


class FakeStack(ThreadingHTTPServer):
    """/upload-grants signs real grants for `device`; POST /<bucket> is S3 checking the form's policy; /uploads and
    PUT are the per-upload path. `answers[path]`: answers to give instead, first come first served."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.device = "door-1"
        self.requests: list[dict[str, Any]] = []
        self.answers: dict[str, list[tuple[int, bytes, str]]] = {}
        self.stored: dict[str, dict[str, Any]] = {}
        self.transfers = ClipTransfers(BUCKET, lambda endpoint: s3_presigner(endpoint, "us-east-1"), self.base)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def calls(self, path: str) -> int:
        return sum(1 for r in self.requests if r["path"] == path)


class _Handler(BaseHTTPRequestHandler):
    server: FakeStack

    def _answer(self, status: int, payload: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        record = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        self.server.requests.append(record)
        scripted = self.server.answers.get(self.path) or []
        if scripted:
            return self._answer(*scripted.pop(0))
        if self.path == "/upload-grants":
            grant = self.server.transfers.grant({}, self.server.device, decode(body, UploadGrantRequest))
            return self._answer(200, encode(grant))
        if self.path == f"/{BUCKET}":
            fields, file, order = parse_form(self.headers["Content-Type"], body)
            record["order"] = order
            why = refusal(fields, BUCKET, len(file or b""))
            if why is not None:
                record["refused"] = why
                return self._answer(*s3_error(403, "AccessDenied"))
            named = dict(fields)
            self.server.stored[named["key"]] = {"fields": named, "body": file}
            return self._answer(204)
        if self.path == "/uploads":
            ask = json.loads(body)
            answer = {"key": KEY if "clip" in ask else ask["bundle"], "url": f"{self.server.base}/put",
                      "headers": {"Content-Type": "video/mp4"}, "expires_in": 900}
            return self._answer(200, json.dumps(answer).encode())
        return self._answer(200)  # the PUT

    do_POST = do_PUT = _handle

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStack]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with serving(FakeStack()) as server:
        yield server


def uploader(stack: FakeStack, clock: FakeClock | None = None) -> ApiClipUploader:
    return ApiClipUploader(ApiSession("dev-key"), f"{stack.base}/uploads", f"{stack.base}/upload-grants",
                           clock=clock or FakeClock())


def clip_keys(n: int) -> list[str]:
    return [clip_key("door-1", f"20261129T101010.500Z-{i:06d}") for i in range(n)]


def test_one_grant_serves_many_uploads(stack: FakeStack, clip: Path) -> None:
    device = uploader(stack)
    for key in clip_keys(5):
        device.upload(clip, key, METADATA)
    assert stack.calls("/upload-grants") == 1 and stack.calls(f"/{BUCKET}") == 5 and stack.calls("/uploads") == 0
    ask = next(r for r in stack.requests if r["path"] == "/upload-grants")
    assert ask["headers"]["x-api-key"] == "dev-key"
    assert json.loads(ask["body"]) == {"content_type": "video/mp4", "metadata": sorted(METADATA)}
    stored = stack.stored[clip_keys(5)[3]]
    assert stored["body"] == clip.read_bytes() and stored["fields"]["Content-Type"] == "video/mp4"
    assert {k: stored["fields"][f"x-amz-meta-{k}"] for k in METADATA} == METADATA  # the same metadata as a PUT's
    post = next(r for r in stack.requests if r["path"] == f"/{BUCKET}")
    assert "x-api-key" not in post["headers"]  # the policy carries its own signature


def test_the_file_is_the_last_field_after_the_key_and_metadata(stack: FakeStack, clip: Path) -> None:
    uploader(stack).upload(clip, KEY, METADATA)
    post = next(r for r in stack.requests if r["path"] == f"/{BUCKET}")
    order = post["order"]
    assert order[-1] == "file" and order.index("policy") < order.index("key") < order.index("x-amz-meta-names")


def test_each_kind_of_upload_has_its_own_grant(stack: FakeStack, clip: Path) -> None:
    device = uploader(stack)
    visit = "20261129T101010.500Z-1a2b3c4d"
    device.upload(clip, KEY, METADATA)
    device.upload(clip, bundle_key("door-1", visit), {"visit": visit, "clips": "6"})
    device.upload(clip, bundle_key("door-1", "20261129T101011.500Z-1a2b3c4e"), {"clips": "2", "visit": visit})
    device.upload(clip, clip_keys(1)[0], {"device": "door-1"})  # other metadata names: another policy
    asks = [json.loads(r["body"]) for r in stack.requests if r["path"] == "/upload-grants"]
    assert asks == [{"content_type": "video/mp4", "metadata": sorted(METADATA)},
                    {"content_type": "application/zip", "metadata": ["clips", "visit"]},
                    {"content_type": "video/mp4", "metadata": ["device"]}]
    assert stack.stored[bundle_key("door-1", visit)]["fields"]["Content-Type"] == "application/zip"


def test_a_grant_is_renewed_a_few_minutes_before_it_expires(stack: FakeStack, clip: Path) -> None:
    clock = FakeClock()
    device = uploader(stack, clock)
    device.upload(clip, KEY, METADATA)
    clock.advance(UPLOAD_GRANT_EXPIRES_S - GRANT_RENEW_BEFORE_S - 1)
    device.upload(clip, KEY, METADATA)
    assert stack.calls("/upload-grants") == 1
    clock.advance(2)
    device.upload(clip, KEY, METADATA)
    assert stack.calls("/upload-grants") == 2 and stack.calls(f"/{BUCKET}") == 3


@pytest.mark.parametrize(("status", "code"), [(403, "AccessDenied"), (400, "ExpiredToken")])
def test_a_grant_s3_refuses_is_renewed_once_and_the_upload_made(stack: FakeStack, clip: Path, status: int,
                                                                 code: str) -> None:
    device = uploader(stack)
    device.upload(clip, KEY, METADATA)
    stack.answers[f"/{BUCKET}"] = [s3_error(status, code)]
    device.upload(clip, clip_keys(1)[0], METADATA)
    assert stack.calls("/upload-grants") == 2 and stack.calls(f"/{BUCKET}") == 3
    assert clip_keys(1)[0] in stack.stored


def test_a_grant_refused_twice_raises_as_a_refused_put_did_and_asks_no_more(stack: FakeStack, clip: Path) -> None:
    stack.answers[f"/{BUCKET}"] = [s3_error(403, "AccessDenied")] * 3
    with pytest.raises(ServiceAuthRejected, match="AccessDenied"):
        uploader(stack).upload(clip, KEY, METADATA)
    assert stack.calls("/upload-grants") == 2 and stack.calls(f"/{BUCKET}") == 2


@pytest.mark.parametrize(("answer", "kind"), [(s3_error(503, "SlowDown"), ServiceUnavailable),
                                              (s3_error(400, "EntityTooLarge"), ServiceRefused)])
def test_other_s3_failures_keep_the_grant_and_raise_the_workers_kind(stack: FakeStack, clip: Path,
                                                                      answer: tuple[int, bytes, str],
                                                                      kind: type) -> None:
    device = uploader(stack)
    stack.answers[f"/{BUCKET}"] = [answer]
    with pytest.raises(kind):
        device.upload(clip, KEY, METADATA)
    device.upload(clip, KEY, METADATA)  # the next try, same grant
    assert stack.calls("/upload-grants") == 1


@pytest.mark.parametrize(("status", "kind"), [(403, ServiceAuthRejected), (429, ServiceThrottled),
                                              (503, ServiceUnavailable), (400, ServiceRefused)])
def test_a_refused_grant_request_raises_the_workers_error_type(stack: FakeStack, clip: Path, status: int,
                                                               kind: type) -> None:
    stack.answers["/upload-grants"] = [(status, b'{"error": "x", "message": "no"}', "application/json")]
    with pytest.raises(kind):
        uploader(stack).upload(clip, KEY, METADATA)
    assert stack.calls(f"/{BUCKET}") == 0


def test_a_stack_without_grants_gets_one_url_per_upload_for_an_hour(stack: FakeStack, clip: Path) -> None:
    clock = FakeClock()
    device = uploader(stack, clock)
    stack.answers["/upload-grants"] = [(404, b'{"error": "not_found", "message": "no route"}', "application/json")]
    device.upload(clip, KEY, METADATA)
    device.upload(clip, KEY, METADATA)
    assert stack.calls("/upload-grants") == 1 and stack.calls("/uploads") == 2 and stack.calls("/put") == 2
    clock.advance(3601)
    device.upload(clip, KEY, METADATA)  # deployed meanwhile: grants again
    assert stack.calls("/upload-grants") == 2 and stack.calls(f"/{BUCKET}") == 1


def test_a_grant_for_another_devices_prefix_is_refused_before_anything_is_uploaded(stack: FakeStack,
                                                                                    clip: Path) -> None:
    stack.device = "door-2"
    with pytest.raises(ServiceRefused, match="does not match"):
        uploader(stack).upload(clip, KEY, METADATA)
    assert stack.calls(f"/{BUCKET}") == 0


@pytest.mark.parametrize(("key", "metadata", "size", "match"), [
    ("clips/door-1/x.zip", {}, 5, "not a clip or bundle key"),
    (KEY, {"names": "é"}, 5, "metadata"), (KEY, {f"n{i}": "x" * 400 for i in range(5)}, 5, "exceeds"),
    (KEY, {}, 0, "bytes"),
])
def test_what_the_api_would_refuse_is_refused_before_any_request(stack: FakeStack, tmp_path: Path, key: str,
                                                                 metadata: dict[str, str], size: int,
                                                                 match: str) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * size)
    with pytest.raises(ServiceRefused, match=match):
        uploader(stack).upload(path, key, metadata)
    assert stack.requests == []


def test_workers_uploading_at_once_share_one_grant(stack: FakeStack, clip: Path) -> None:
    device = uploader(stack)
    threads = [threading.Thread(target=device.upload, args=(clip, key, METADATA)) for key in clip_keys(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stack.calls("/upload-grants") == 1 and len(stack.stored) == 6
