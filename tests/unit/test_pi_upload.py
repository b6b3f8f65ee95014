"""Uploading clips: the S3 request the uploader makes, the metadata it carries, and how a device connects."""
from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from pi_app.clip_metadata import MAX_VALUE_CHARS, ascii_value, clip_metadata
from pi_app.clip_state import RECOGNISED
from pi_app.s3_uploader import S3ClipUploader
from pi_app.spool import Spool
from pi_app.stack_connection import connect, recognize_url
from facegate_contract import StackOutputs
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


def test_s3_errors_reach_the_worker_so_it_can_retry(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"mp4")
    s3 = _s3()
    with Stubber(s3) as stub, pytest.raises(Exception, match="ServiceUnavailable"):
        stub.add_client_error("put_object", service_error_code="ServiceUnavailable", http_status_code=503)
        S3ClipUploader(s3, "facegate-clips").upload(clip, "k", {})


def test_metadata_holds_the_recognition_result_as_short_ascii(tmp_path: Path) -> None:
    state = add_clip(Spool(tmp_path), 0, FakeClock().now, recognition__status=RECOGNISED,
                     recognition__names=["Eileen_Collins", "unknown"], recognition__confidence=0.98765,
                     recognition__model_version="20261123T231158Z-df968d")

    assert clip_metadata(state) == {"device": "dev-1", "recognition": "recognised", "frames": "10",
                                    "names": "Eileen_Collins,unknown", "confidence": "0.988",
                                    "model-version": "20261123T231158Z-df968d"}


def test_metadata_values_are_made_ascii_and_cut_short() -> None:
    assert ascii_value("Zoë\nX") == "Zo\\xeb?X"  # escaped, control character replaced
    assert ascii_value("a" * 1000) == "a" * MAX_VALUE_CHARS


def _outputs(path: Path, endpoint: str | None = "http://localhost:4566") -> Path:
    StackOutputs.build(region="us-east-1", endpoint_url=endpoint, api_id="abc123", stage="prod", api_key="k3y",
                       bucket="facegate-clips", people_table="p", sightings_table="s", function_name="f").write(path)
    return path


def test_connect_from_the_outputs_file(tmp_path: Path) -> None:
    connection = connect("door-1", outputs=_outputs(tmp_path / "outputs.json"))

    assert connection.recognizer.url == "http://localhost:4566/_aws/execute-api/abc123/prod/recognize"
    assert connection.uploader.bucket == "facegate-clips"
    assert "k3y" not in connection.description
    link = connection.clip_links.url("clips/door-1/x.mp4", 60)  # signed for alerts, SigV4 as real S3 requires
    assert link.startswith("http://localhost:4566/facegate-clips/clips/door-1/x.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256")


def test_connect_through_another_emulator_url(tmp_path: Path) -> None:
    connection = connect("door-1", outputs=_outputs(tmp_path / "outputs.json"), endpoint_url="http://emulator:4566")

    assert connection.recognizer.url.startswith("http://emulator:4566/")


def test_connect_with_an_explicit_api_needs_a_key_and_a_bucket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no default outputs file here
    with pytest.raises(ValueError, match="--api-key"):
        connect("door-1", api_url="https://x.example/prod")
    with pytest.raises(ValueError, match="--bucket"):
        connect("door-1", api_url="https://x.example/prod", api_key="k")

    connection = connect("door-1", api_url="https://x.example/prod", api_key="k", bucket="b", region="eu-west-1")
    assert (connection.recognizer.url, connection.uploader.bucket) == ("https://x.example/prod/recognize", "b")


def test_recognize_url_accepts_the_stage_or_the_resource_url() -> None:
    assert recognize_url("https://x.example/prod/") == "https://x.example/prod/recognize"
    assert recognize_url("https://x.example/prod/recognize") == "https://x.example/prod/recognize"
