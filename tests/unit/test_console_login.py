"""The console password: set at deploy, stored only as a scrypt hash; a new deploy keeps, replaces or generates it."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from facegate_cli.friendly_errors import describe
from services import console_login
from services.changes import Action


class MemoryS3:
    """Just the two calls the login needs, in memory."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self._errors = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")

    def get_object(self, Bucket: str, Key: str) -> dict:
        if Key not in self.objects:
            with Stubber(self._errors) as stub:
                stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
                self._errors.get_object(Bucket=Bucket, Key=Key)

        class Body:
            def __init__(self, data: bytes) -> None:
                self.data = data

            def read(self) -> bytes:
                return self.data
        return {"Body": Body(self.objects[Key])}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        self.objects[Key] = Body


def test_the_hash_verifies_the_password_only() -> None:
    record = console_login.hash_password("a long enough secret")
    assert record.verify("a long enough secret")
    assert not record.verify("a long enough secreT") and not record.verify("")
    assert "a long enough secret" not in json.dumps(record.to_json())
    again = console_login.hash_password("a long enough secret")
    assert again.salt != record.salt and again.fingerprint != record.fingerprint


def test_a_short_password_is_refused() -> None:
    with pytest.raises(console_login.LoginError, match="at least 8"):
        console_login.hash_password("short")


def test_the_first_deploy_generates_a_password_and_later_ones_keep_it() -> None:
    s3 = MemoryS3()
    change, generated = console_login.ensure_login(s3, "b", None)
    assert change.action is Action.CREATED and generated and len(generated) >= 16
    stored = s3.objects[console_login.LOGIN_KEY]
    assert generated.encode() not in stored
    assert console_login.load_login(s3, "b").verify(generated)
    change, again = console_login.ensure_login(s3, "b", None)
    assert change.action is Action.UNCHANGED and again is None and s3.objects[console_login.LOGIN_KEY] == stored


def test_a_given_password_replaces_a_different_one_and_is_idempotent() -> None:
    s3 = MemoryS3()
    console_login.ensure_login(s3, "b", None)
    change, generated = console_login.ensure_login(s3, "b", "my console password")
    assert change.action is Action.UPDATED and generated is None
    assert console_login.load_login(s3, "b").verify("my console password")
    change, _ = console_login.ensure_login(s3, "b", "my console password")
    assert change.action is Action.UNCHANGED


def test_the_password_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("from the file\nignored\n")
    assert console_login.password_from(path, {console_login.PASSWORD_ENV: "from env"}) == "from the file"
    assert console_login.password_from(None, {console_login.PASSWORD_ENV: "from env"}) == "from env"
    assert console_login.password_from(None, {}) is None


def test_a_generated_password_is_written_owner_only(tmp_path: Path) -> None:
    path = tmp_path / ".facegate" / console_login.PASSWORD_FILE
    console_login.write_password_file(path, "s3cret-value")
    assert path.read_text() == "s3cret-value\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# ---- credentials that may write the login but not read it (no s3:GetObject, or no s3:ListBucket) ------------------
class UnreadableLogin:
    """moto's S3, except that reading the login is denied: without s3:ListBucket S3 answers 403 AccessDenied even
    for a key that is not there, so a 403 says nothing about whether a record exists."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def get_object(self, **params: Any) -> dict:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


BUCKET = "facegate-login"


@pytest.fixture
def s3_bucket(mocked_aws: None) -> Any:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    return s3


def test_an_unreadable_login_gets_a_first_password_only_where_there_is_none(s3_bucket: Any) -> None:
    change, generated = console_login.ensure_login(UnreadableLogin(s3_bucket), BUCKET, None)
    assert change.action is Action.CREATED and generated
    assert console_login.load_login(s3_bucket, BUCKET).verify(generated)


def test_an_unreadable_login_that_exists_is_never_overwritten_and_the_error_is_one_line(s3_bucket: Any) -> None:
    console_login.store_login(s3_bucket, BUCKET, console_login.hash_password("the stored password"))
    with pytest.raises(console_login.LoginError) as raised:  # S3's 412 PreconditionFailed on the conditional write
        console_login.ensure_login(UnreadableLogin(s3_bucket), BUCKET, None)
    message = ("a console login is stored at s3://facegate-login/console/login.json but these credentials may not read "
               "it: allow s3:GetObject on it, or replace it with FACEGATE_CONSOLE_PASSWORD=... facegate deploy")
    assert describe(raised.value) == (message, 2)  # one line from the CLI, exit code 2
    assert console_login.load_login(s3_bucket, BUCKET).verify("the stored password")


def test_a_given_password_replaces_a_login_that_cannot_be_read(s3_bucket: Any) -> None:
    console_login.store_login(s3_bucket, BUCKET, console_login.hash_password("the stored password"))
    change, generated = console_login.ensure_login(UnreadableLogin(s3_bucket), BUCKET, "my console password")
    assert change.action is Action.UPDATED and generated is None
    assert console_login.load_login(s3_bucket, BUCKET).verify("my console password")

def test_new_hashes_follow_owasp_and_old_ones_verify_until_a_deploy_rehashes_them() -> None:
    record = console_login.hash_password("a long enough secret")
    assert (record.n, record.r, record.p) == (2 ** 17, 8, 1) and record.current
    s3 = MemoryS3()
    old = console_login.hash_password("a long enough secret", n=2 ** 14)
    console_login.store_login(s3, "b", old)
    assert console_login.load_login(s3, "b").verify("a long enough secret") and not old.current

    change, _ = console_login.ensure_login(s3, "b", "a long enough secret")

    assert change.action is Action.UPDATED and "re-hashed" in change.detail
    rehashed = console_login.load_login(s3, "b")
    assert rehashed.n == 2 ** 17 and rehashed.verify("a long enough secret")
    assert console_login.ensure_login(s3, "b", "a long enough secret")[0].action is Action.UNCHANGED


def test_secret_files_are_owner_only_whatever_temporary_file_was_left(tmp_path: Path) -> None:
    from facegate_contract import StackOutputs

    password_file = tmp_path / console_login.PASSWORD_FILE
    outputs_file = tmp_path / "outputs.json"
    for stale in (tmp_path / f".{password_file.name}.tmp", tmp_path / f".{outputs_file.name}.tmp"):
        stale.write_text("left by an earlier run")
        os.chmod(stale, 0o644)

    console_login.write_password_file(password_file, "s3cret-value")
    StackOutputs.build(region="us-east-1", endpoint_url=None, api_id="a", stage="v1", api_key="k", bucket="b",
                       people_table="p", sightings_table="s", function_name="f", devices_table="d").write(outputs_file)

    for path in (password_file, outputs_file):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert password_file.read_text() == "s3cret-value\n"
