"""Uploading clips: the S3 request the uploader makes, the metadata it carries, and how a device connects."""
from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from pi_app.recording.clip_metadata import MAX_VALUE_CHARS, ascii_value, clip_metadata
from pi_app.recording.clip_state import RECOGNISED
from pi_app.transport.s3_uploader import S3ClipUploader
from pi_app.recording.spool import Spool
from facegate_contract import ContractFileError, DeviceFile, StackOutputs
from pi_app.transport.api_clip_transfers import ApiClipLinks, ApiClipUploader
from pi_app.transport.service_errors import ServiceAuthRejected, ServiceThrottled, ServiceUnavailable
from pi_app.transport.stack_connection import connect
from tests.unit.pi_support import FakeClock, add_clip


def _s3():
    return boto3.client("s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")


def test_a_clip_is_put_under_its_key_with_metadata(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    s3 = _s3()
    metadata = {"device": "door-1", "recognition": "recognised", "names": "Eileen_Collins"}
    with Stubber(s3) as stub:
        stub.add_response("put_object", {}, {"Bucket": "facegate-clips", "Key": "clips/door-1/x.mp4", "Body": ANY,
                                             "ContentType": "video/mp4", "Metadata": metadata})
        S3ClipUploader(s3, "facegate-clips").upload(clip, "clips/door-1/x.mp4", metadata)
        stub.assert_no_pending_responses()


def test_a_visit_bundle_is_put_as_a_zip(tmp_path: Path) -> None:
    from facegate_contract import bundle_key

    bundle, key = tmp_path / "visit.zip", bundle_key("door-1", "20261129T101010.500Z-1a2b3c4d")
    bundle.write_bytes(b"PK\x05\x06" + bytes(18))
    s3 = _s3()
    with Stubber(s3) as stub:
        stub.add_response("put_object", {}, {"Bucket": "facegate-clips", "Key": key, "Body": ANY,
                                             "ContentType": "application/zip", "Metadata": {"clips": "0"}})
        S3ClipUploader(s3, "facegate-clips").upload(bundle, key, {"clips": "0"})
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(("code", "status", "kind"), [
    ("ServiceUnavailable", 503, ServiceUnavailable), ("SlowDown", 503, ServiceThrottled),
    ("AccessDenied", 403, ServiceAuthRejected), ("ExpiredToken", 400, ServiceAuthRejected)])
def test_s3_errors_reach_the_worker_in_its_vocabulary(tmp_path: Path, code: str, status: int, kind: type) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"mp4")
    s3 = _s3()
    with Stubber(s3) as stub, pytest.raises(kind, match=code):
        stub.add_client_error("put_object", service_error_code=code, http_status_code=status)
        S3ClipUploader(s3, "facegate-clips").upload(clip, "k", {})


def test_metadata_holds_the_recognition_result_as_short_ascii(tmp_path: Path) -> None:
    state = add_clip(Spool(tmp_path), 0, FakeClock().now, recognition__status=RECOGNISED,
                     recognition__names=["Eileen_Collins", "unknown"], recognition__confidence=0.98765,
                     recognition__model_version="20261123T231158Z-df968d")

    assert clip_metadata(state) == {"device": "dev-1", "recognition": "recognised", "frames": "10",
                                    "codec": state.fourcc, "frame-index": str(state.frame_index), "names": "Eileen_Collins,unknown", "confidence": "0.988",
                                    "model-version": "20261123T231158Z-df968d"}


def test_metadata_values_are_made_ascii_and_cut_short() -> None:
    assert ascii_value("Zoë\nX") == "Zo\\xeb?X"  # escaped, control character replaced
    assert ascii_value("a" * 1000) == "a" * MAX_VALUE_CHARS


def _outputs(path: Path, endpoint: str | None = "http://localhost:4566") -> Path:
    StackOutputs.build(region="us-east-1", endpoint_url=endpoint, api_id="abc123", stage="prod", api_key="k3y",
                       bucket="facegate-clips", people_table="p", sightings_table="s", function_name="f").write(path)
    return path


def test_connect_from_the_outputs_file_uploads_straight_to_s3(tmp_path: Path) -> None:
    connection = connect(outputs=_outputs(tmp_path / "outputs.json"))

    assert connection.device_id == "facegate-developer"  # the developer key's device
    assert connection.recognizer.url == "http://localhost:4566/_aws/execute-api/abc123/prod/recognize"
    assert connection.uploader.bucket == "facegate-clips"
    assert "k3y" not in connection.description
    link = connection.clip_links.url("clips/door-1/x.mp4", 60)  # signed for alerts, SigV4 as real S3 requires
    assert link.startswith("http://localhost:4566/facegate-clips/clips/door-1/x.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256")


def test_connect_through_another_emulator_url(tmp_path: Path) -> None:
    connection = connect(outputs=_outputs(tmp_path / "outputs.json"), endpoint_url="http://emulator:4566")

    assert connection.recognizer.url.startswith("http://emulator:4566/")


def test_connect_from_a_device_file_needs_no_aws_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    path = tmp_path / "door-1.json"
    DeviceFile(device_id="door-1", api_url="https://x.example/live", api_key="k").write(path)
    connection = connect(device_file=path)

    assert connection.device_id == "door-1"
    assert connection.recognizer.url == "https://x.example/live/recognize"
    assert isinstance(connection.uploader, ApiClipUploader) and isinstance(connection.clip_links, ApiClipLinks)
    assert "k" not in connection.description.replace("x.example", "")


@pytest.mark.parametrize("content", ["{}", "not json", '{"device_id": "../x", "api_url": "https://a", "api_key": "k"}',
                                     '{"device_id": "d", "api_url": "ftp://a", "api_key": "k"}'])
def test_a_broken_device_file_is_refused_with_a_reason(tmp_path: Path, content: str) -> None:
    path = tmp_path / "d.json"
    path.write_text(content)
    with pytest.raises(ContractFileError, match="device file"):
        connect(device_file=path)
