"""The console password: set at deploy, stored only as a scrypt hash; a new deploy keeps, replaces or generates it."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

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
