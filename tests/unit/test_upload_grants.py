"""POST /upload-grants: one presigned POST policy for many uploads, under the calling device's own prefix only, with
its length range, content type and metadata names; bad input is a 400 `{error, message}`. The policy is checked by
S3's documented rules (tests/unit/s3_post_policy.py) and a form made from it is posted to moto's S3, which stores it
(moto checks no POST policy: it would take any form)."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from facegate_contract import MAX_CLIP_BYTES, UPLOAD_GRANT_EXPIRES_S, bundle_key, clip_key
from facegate_contract.wire import UploadGrant, convert
from recognizer.api.device_identity import DeviceDirectory
from recognizer.control.clip_transfers import ClipTransfers, s3_presigner
from recognizer.control.service import ControlService
from recognizer.control.visit_reports import VisitReports
from tests.unit.s3_post_policy import policy_of, refusal
from tests.unit.test_lambda_routes import devices_table, proxy_event

CLIP = "20261129T101010.500Z-000007"
METADATA = {"device": "door-1", "recognition": "recognised", "names": "Eileen_Collins"}


@pytest.fixture
def presigner(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return lambda endpoint: s3_presigner(endpoint, "us-east-1")


def control_for(presigner: Any, presign_endpoint: str | None = "request-host") -> ControlService:
    visits = VisitReports(None)  # type: ignore[arg-type]  # no visit is reported here
    return ControlService(ClipTransfers("clips-bucket", presigner, presign_endpoint), visits,
                          devices=DeviceDirectory(devices_table()))


def call(control: ControlService, body: dict[str, Any] | bytes, key: str = "key-door-1") -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = control.handle(proxy_event("/upload-grants", raw, key=key))
    return response["statusCode"], json.loads(response["body"])


def form(grant: dict[str, Any], key: str, metadata: dict[str, str]) -> list[tuple[str, str]]:
    """The form fields a device sends with a grant (the file goes after them)."""
    return [*grant["fields"].items(), ("key", key), *((f"x-amz-meta-{k}", v) for k, v in metadata.items())]


def test_a_grant_is_for_the_callers_own_prefix_with_every_condition(presigner: Any) -> None:
    status, body = call(control_for(presigner), {"content_type": "video/mp4", "metadata": sorted(METADATA)})
    assert status == 200
    grant = convert(body, UploadGrant)  # the contract's answer type
    assert grant.prefix == "clips/door-1/" and grant.max_bytes == MAX_CLIP_BYTES and grant.method == "POST"
    assert grant.expires_in == UPLOAD_GRANT_EXPIRES_S and grant.metadata == ["device", "names", "recognition"]
    url = urlsplit(grant.url)
    assert url.netloc == "localhost:4566" and url.path == "/clips-bucket"  # the host the device called, path style
    assert "key" not in grant.fields  # the device names each key; the policy holds it under the prefix
    conditions = policy_of(grant.fields)["conditions"]
    assert ["starts-with", "$key", "clips/door-1/"] in conditions
    assert ["content-length-range", 1, MAX_CLIP_BYTES] in conditions
    assert {"Content-Type": "video/mp4"} in conditions and grant.fields["Content-Type"] == "video/mp4"
    assert {"bucket": "clips-bucket"} in conditions
    assert [c for c in conditions if isinstance(c, list) and str(c[1]).startswith("$x-amz-meta-")] == [
        ["starts-with", f"$x-amz-meta-{name}", ""] for name in ("device", "names", "recognition")]


def test_another_device_gets_its_own_prefix(presigner: Any) -> None:
    status, body = call(control_for(presigner), {"content_type": "application/zip", "metadata": ["clips", "visit"]},
                        key="key-door-2")
    assert status == 200 and body["prefix"] == "clips/door-2/"
    assert ["starts-with", "$key", "clips/door-2/"] in policy_of(body["fields"])["conditions"]
    assert {"Content-Type": "application/zip"} in policy_of(body["fields"])["conditions"]


def test_the_policy_takes_the_devices_own_keys_only_and_nothing_too_big(presigner: Any) -> None:
    _, grant = call(control_for(presigner), {"content_type": "video/mp4", "metadata": sorted(METADATA)})
    own = clip_key("door-1", CLIP)
    assert refusal(form(grant, own, METADATA), "clips-bucket", 1234) is None
    assert "$key" in str(refusal(form(grant, clip_key("door-2", CLIP), METADATA), "clips-bucket", 1234))
    assert refusal(form(grant, own, METADATA), "clips-bucket", MAX_CLIP_BYTES + 1) == "EntityTooLarge"
    assert refusal(form(grant, own, METADATA), "clips-bucket", 0) == "EntityTooSmall"
    assert "$bucket" in str(refusal(form(grant, own, METADATA), "other-bucket", 1234))
    # Metadata: exactly the names granted (S3 refuses an extra field, and a granted one the form lacks).
    assert "Extra input fields: x-amz-meta-extra" == refusal(form(grant, own, {**METADATA, "extra": "1"}),
                                                              "clips-bucket", 1234)
    assert "x-amz-meta-names" in str(refusal(form(grant, own, {"device": "d", "recognition": "r"}), "clips-bucket", 9))
    # The content type is fixed: a clip's grant cannot store a ZIP (or HTML).
    changed = [(n, "text/html" if n == "Content-Type" else v) for n, v in form(grant, own, METADATA)]
    assert "$Content-Type" in str(refusal(changed, "clips-bucket", 9))
    assert refusal(form(grant, own, METADATA), "clips-bucket", 9, secret="another") == "SignatureDoesNotMatch"


def test_a_grant_names_the_host_the_device_called_or_none_on_aws(presigner: Any) -> None:
    _, on_aws = call(control_for(presigner, None), {"content_type": "video/mp4"})
    assert urlsplit(on_aws["url"]).netloc == "clips-bucket.s3.amazonaws.com"
    response = control_for(presigner).handle({**proxy_event("/upload-grants", b'{"content_type": "video/mp4"}'),
                                              "headers": {"x-api-key": "key-door-1"}})
    assert response["statusCode"] == 400 and json.loads(response["body"])["error"] == "bad_request"


@pytest.mark.parametrize(("body", "error"), [
    ({}, "bad_content_type"), ({"content_type": "text/html"}, "bad_content_type"),
    ({"content_type": "video/mp4", "metadata": ["bad name!"]}, "bad_metadata"),
    ({"content_type": "video/mp4", "metadata": ["names\n"]}, "bad_upload_grant"),
    ({"content_type": "video/mp4", "metadata": ["names", "Names"]}, "bad_upload_grant"),
    ({"content_type": "video/mp4", "metadata": [f"m{i}" for i in range(17)]}, "bad_metadata"),
    ({"content_type": "video/mp4", "metadata": "names"}, "bad_metadata"),
    (b"{not json", "invalid_json"), (b"[]", "bad_upload_grant"),
])
def test_a_bad_grant_request_is_400(presigner: Any, body: dict[str, Any] | bytes, error: str) -> None:
    status, answer = call(control_for(presigner), body)
    assert (status, answer["error"]) == (400, error) and answer["message"]


def test_an_unknown_key_gets_no_grant(presigner: Any) -> None:
    status, body = call(control_for(presigner), {"content_type": "video/mp4"}, key="stolen")
    assert (status, body["error"]) == (403, "unknown_device")


def test_a_form_from_a_grant_is_stored_by_moto_with_its_metadata(mocked_aws: None) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="clips-bucket")
    control = control_for(lambda endpoint: s3_presigner(endpoint, "us-east-1"), None)
    for content_type, key, metadata in [("video/mp4", clip_key("door-1", CLIP), METADATA),
                                        ("application/zip", bundle_key("door-1", "20261129T101010.500Z-1a2b3c4d"),
                                         {"visit": "20261129T101010.500Z-1a2b3c4d", "clips": "6"})]:
        _, grant = call(control, {"content_type": content_type, "metadata": sorted(metadata)})
        fields = form(grant, key, metadata)
        assert refusal(fields, "clips-bucket", 5, secret="FOOBARSECRET") is None  # S3's rules (moto checks none)
        answer = requests.post(grant["url"], data=fields, files=[("file", ("f", b"bytes", content_type))], timeout=10)
        assert answer.status_code == 204, answer.text
        head = s3.head_object(Bucket="clips-bucket", Key=key)
        assert (head["ContentType"], head["Metadata"], head["ContentLength"]) == (content_type, metadata, 5)
