"""Argument mistakes get a clear message and exit code 2, before anything is touched."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from facegate_cli.friendly_errors import describe
from facegate_contract import aws_session
from facegate_rigs.scripted_server import serving
from tests.conftest import FIXTURE_IMAGES, ROOT

FIXTURE_VIDEO = ROOT / "fixtures" / "videos" / "demo.mp4"


def _facegate(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "facegate_cli", *args], capture_output=True, text=True, timeout=120)
    # rich wraps messages inside a box: compare on the words alone.
    result.stderr = " ".join(result.stderr.replace("│", " ").split())
    return result


def test_enroll_rejects_a_name_that_is_not_first_last() -> None:
    result = _facegate("enroll", "--name", "eileen", str(FIXTURE_IMAGES / "no_face.jpg"))
    assert result.returncode == 2
    assert "First_Last" in result.stderr


def test_enroll_rejects_details_that_are_not_a_json_object() -> None:
    result = _facegate("enroll", "--name", "Eileen_Collins", "--details", "[1]", str(FIXTURE_IMAGES / "no_face.jpg"))
    assert result.returncode == 2
    assert "JSON object" in result.stderr


def test_train_needs_an_existing_data_folder(tmp_path: Path) -> None:
    result = _facegate("train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "m"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_deploy_rejects_a_non_positive_retention() -> None:
    result = _facegate("deploy", "--retention-days", "0")
    assert result.returncode == 2


def test_unknown_command_is_an_error() -> None:
    assert _facegate("launch-rockets").returncode == 2


# ---- the errors a new user meets first: one line, an exit code, no traceback -------------------------------------
def _clean_env(**extra: str) -> dict[str, str]:
    """An environment with no AWS credentials or configuration at all (and no instance metadata lookups)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FACEGATE_"))}
    env.update({"AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                "AWS_EC2_METADATA_DISABLED": "true", **extra})
    return env


def _first_error(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "facegate_cli", *args], capture_output=True, text=True,
                            timeout=180, env=env, cwd=cwd)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def _one_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("facegate:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_no_aws_credentials_says_how_to_target_the_local_stack(tmp_path: Path) -> None:
    result = _first_error(["status"], _clean_env(), cwd=tmp_path)
    assert result.returncode == 2
    line = _one_line(result)
    assert "no AWS credentials" in line and "--endpoint-url http://localhost:4566" in line


def test_an_emulator_that_does_not_answer_is_named(tmp_path: Path) -> None:
    port = _free_port()
    result = _first_error(["status", "--endpoint-url", f"http://127.0.0.1:{port}"], _clean_env(), cwd=tmp_path)
    assert result.returncode == 3
    line = _one_line(result)
    assert f"cannot reach the emulator at http://127.0.0.1:{port}" in line and "docker compose up -d emulator" in line


def test_a_missing_outputs_file_is_one_line(tmp_path: Path) -> None:
    result = _first_error(["enroll", "--name", "Eileen_Collins", str(FIXTURE_IMAGES / "no_face.jpg"),
                           "--outputs", str(tmp_path / "outputs.json")], _clean_env(), cwd=tmp_path)
    assert result.returncode == 2
    assert "no deploy outputs at" in _one_line(result) and "facegate deploy" in _one_line(result)


def test_a_region_that_does_not_exist_is_named_with_a_suggestion(tmp_path: Path) -> None:
    result = _first_error(["status", "--region", "eu-wst-1"], _clean_env(AWS_ACCESS_KEY_ID="k",
                                                                         AWS_SECRET_ACCESS_KEY="s"), cwd=tmp_path)
    assert result.returncode == 2
    assert "no region 'eu-wst-1'" in _one_line(result) and "eu-west-1" in _one_line(result)


def test_expired_credentials_say_so(tmp_path: Path) -> None:
    expired = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
               '<Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message>'
               '</Error><RequestId>1</RequestId></ErrorResponse>')
    with _answering(403, expired.encode(), "text/xml") as port:
        env = _clean_env(AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s", AWS_SESSION_TOKEN="t",
                         AWS_ENDPOINT_URL_STS=f"http://127.0.0.1:{port}")
        result = _first_error(["status", "--region", "eu-west-1"], env, cwd=tmp_path)
    assert result.returncode == 2
    assert "credentials have expired" in _one_line(result)


def test_a_docker_engine_that_is_not_running_is_named_before_anything_is_deployed(tmp_path: Path) -> None:
    env = _clean_env(DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock")
    result = _first_error(["deploy", "--endpoint-url", f"http://127.0.0.1:{_free_port()}"], env, cwd=tmp_path)
    assert result.returncode == 3
    assert "cannot reach the docker engine" in _one_line(result)


def test_a_missing_device_file_is_one_line(tmp_path: Path) -> None:
    result = _first_error(["run", "--camera", f"video:{FIXTURE_VIDEO}", "--device-file", str(tmp_path / "d.json")],
                          _clean_env(), cwd=tmp_path)
    assert result.returncode == 2
    assert "no device file at" in _one_line(result) and "facegate device add" in _one_line(result)


# ---- on AWS: one line true to the target, whatever endpoint boto3 was sent to ------------------------------------
AWS_DENIED_HINT = "attach the deployer policy (services/data/deployer-policy.json) or ask your AWS admin"
SECRET = "wJalrXUtnFEMI-not-to-be-printed"
STS_IDENTITY = (b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                b'<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/deployer</Arn><UserId>AIDAEXAMPLE</UserId>'
                b'<Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId>'
                b'</ResponseMetadata></GetCallerIdentityResponse>')


def _aws_env(**endpoints: str) -> dict[str, str]:
    """Credentials for AWS (no --endpoint-url: the target is AWS) with boto3 sent elsewhere, as a test harness does."""
    return _clean_env(AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY=SECRET, **endpoints)


def _sightings_answered_by_dynamodb(code: str, message: str, cwd: Path) -> subprocess.CompletedProcess:
    """`facegate sightings` on AWS (STS answers for account 123456789012) where DynamoDB answers this error."""
    error = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    with _answering(200, STS_IDENTITY, "text/xml") as sts, \
            _answering(400, error, "application/x-amz-json-1.0") as dynamodb:
        env = _aws_env(AWS_ENDPOINT_URL_STS=f"http://127.0.0.1:{sts}",
                       AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{dynamodb}")
        return _first_error(["sightings", "--region", "eu-west-1"], env, cwd=cwd)


def test_an_aws_endpoint_that_does_not_answer_is_named_as_aws_not_the_emulator(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"  # a loopback address, yet the target is AWS: no emulator advice
    result = _first_error(["status", "--region", "eu-west-1"], _aws_env(AWS_ENDPOINT_URL=url), cwd=tmp_path)
    assert result.returncode == 3
    assert _one_line(result) == (
        f"facegate: cannot reach AWS at {url}/ (region eu-west-1): check the network, the region, and any "
        "AWS_ENDPOINT_URL or profile endpoint_url that sends boto3 elsewhere")


def test_sightings_without_a_stack_says_to_deploy_first(tmp_path: Path) -> None:
    result = _sightings_answered_by_dynamodb("ResourceNotFoundException", "Requested resource not found", tmp_path)
    assert result.returncode == 2
    assert _one_line(result) == ("facegate: no facegate stack in AWS profile (default chain), region eu-west-1: table "
                                 "facegate-sightings does not exist; run `facegate deploy` first")


def test_a_call_aws_denies_is_named_with_its_action_resource_and_user(tmp_path: Path) -> None:
    result = _sightings_answered_by_dynamodb("AccessDeniedException", (
        "User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: dynamodb:Query on resource: "
        "arn:aws:dynamodb:eu-west-1:123456789012:table/facegate-sightings because no identity-based policy allows "
        "the dynamodb:Query action"), tmp_path)
    assert result.returncode == 2
    assert _one_line(result) == (
        "facegate: AWS denied dynamodb:Query on arn:aws:dynamodb:eu-west-1:123456789012:table/facegate-sightings "
        f"(User: arn:aws:iam::123456789012:user/deployer): {AWS_DENIED_HINT}")
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(("operation", "params", "code", "named"), [
    ("get_object", {"Key": "console/login.json"}, "AccessDenied", "s3:GetObject on object BUCKET/console/login.json"),
    ("head_object", {"Key": "console/login.json"}, "403", "s3:GetObject on object BUCKET/console/login.json"),
    ("head_bucket", {}, "403", "s3:ListBucket on bucket BUCKET")], ids=["get", "head-object", "head-bucket"])
def test_s3s_bare_access_denied_is_named_from_the_call(operation: str, params: dict, code: str, named: str) -> None:
    bucket = "facegate-123456789012-eu-west-1"
    s3 = aws_session(None, None, "eu-west-1").client("s3")
    with Stubber(s3) as stub, pytest.raises(ClientError) as raised:
        # S3 says only "Access Denied" (or, to a HEAD request, nothing at all)
        stub.add_client_error(operation, code, "Access Denied" if code == "AccessDenied" else "Forbidden",
                              http_status_code=403)
        getattr(s3, operation)(Bucket=bucket, **params)
    assert describe(raised.value) == (f"AWS denied {named.replace('BUCKET', bucket)}: {AWS_DENIED_HINT}", 2)


@contextlib.contextmanager
def _answering(status: int, body: bytes, content_type: str) -> Iterator[int]:
    """A loopback HTTP server giving every request the same answer (a stand-in for an AWS endpoint)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as server:
        yield server.server_address[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_missing_face_networks_say_where_to_get_them(tmp_path: Path) -> None:
    empty = tmp_path / "networks"
    empty.mkdir()
    for split in ("training", "val"):
        person = tmp_path / "data" / split / "Eileen_Collins"
        person.mkdir(parents=True)
        for photo in sorted((FIXTURE_IMAGES / "Eileen_Collins").glob("*.jpg"))[:2]:
            (person / photo.name).write_bytes(photo.read_bytes())
    result = _first_error(["train", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "model")],
                          _clean_env(FACEGATE_ONNX_DIR=str(empty)), cwd=tmp_path)
    assert result.returncode == 2
    words = "".join(result.stderr.replace("│", " ").split())  # rich wraps the message inside a box
    assert f"FACEGATE_ONNX_DIR={empty}lacks" in words and "pnet.onnx" in words
