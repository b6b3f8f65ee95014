"""A device holds no AWS credentials: provisioned with its own API key, it runs the fixture video with only its
device file, its clips land under its own prefix, it cannot write or claim anything else, and `device remove`
revokes it within seconds without losing a clip from its spool."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from facegate_contract import DeviceFile, StackOutputs, bundle_key, clip_key
from pi_app.recording.clip_state import ClipState
from recognizer.api.device_identity import REVOKE_WITHIN_S
from services.device_commands import revoke
from services.target import Target
from tests.conftest import ROOT
from tests.integration.stored_clips import stored_clips

DEMO_VIDEO = ROOT / "fixtures" / "videos" / "demo.mp4"
CLIP = "20261129T120000.000Z-000001"


def credential_free_env() -> dict[str, str]:
    """The device's environment: no AWS credentials, configuration or endpoint of any kind."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FACEGATE_"))}
    env.update({"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                "AWS_EC2_METADATA_DISABLED": "true"})
    return env


def run_device_cli(device_file: Path, work: Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "facegate_cli", "run", "--device-file", str(device_file), "--camera",
         f"video:{DEMO_VIDEO}", "--fast", "--headless", "--spool", str(work / "spool"), "--events",
         str(work / "events.jsonl"), "--keep-done", *extra],
        capture_output=True, text=True, timeout=timeout, env=credential_free_env(), cwd=work)


def events(work: Path, kind: str) -> list[dict]:
    lines = (work / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e.get("event") == kind]


def clips_under(target: Target, bucket: str, prefix: str) -> set[str]:
    s3 = target.client("s3")
    return {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])}


def test_a_device_runs_with_only_its_device_file(deployed: tuple[StackOutputs, Path], enrolled: StackOutputs,
                                                 target: Target, add_device, tmp_path: Path) -> None:
    device = f"it-pi-{uuid.uuid4().hex[:6]}"
    device_file = add_device(device)
    assert set(json.loads(device_file.read_text())) == {"device_id", "api_url", "api_key", "region"}
    assert oct(device_file.stat().st_mode & 0o777) == "0o600"
    result = run_device_cli(device_file, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    bundles = events(tmp_path, "bundle_uploaded")
    uploaded = {e["key"] for e in events(tmp_path, "upload")} | {k for e in bundles for k in e["keys"]}
    recorded = {e["clip"] for e in events(tmp_path, "clip_recorded")}
    kept = ({e["clip"] for e in events(tmp_path, "kept")} - {e["clip"] for e in events(tmp_path, "upload")}
            - {c for e in bundles for c in e["clips"]})
    # The visits upload policy: every clip with a face is in S3 (in its visit's bundle), the empty doorway is kept
    # on the device.
    with_face = {e["key"] for e in events(tmp_path, "recognition") if e["names"]}
    assert recorded and with_face and with_face <= uploaded and len(uploaded) + len(kept) == len(recorded)
    assert kept == {p.name for p in (tmp_path / "spool" / ".kept").iterdir()}
    stored = stored_clips(target.client("s3"), deployed[0].bucket, device)
    assert stored.clips == uploaded and set(stored.bundles) == {e["key"] for e in bundles}
    (bundle, members), *_ = stored.bundles.items()
    head = target.client("s3").head_object(Bucket=deployed[0].bucket, Key=bundle)
    assert head["Metadata"]["visit"] and head["ContentType"] == "application/zip" and members
    recognised = [e for e in events(tmp_path, "recognition") if e["status"] == "recognised"]
    assert recognised and {n for e in recognised for n in e["names"]} == {"Eileen_Collins"}


def test_a_device_key_cannot_upload_elsewhere_nor_claim_another_device(deployed: tuple[StackOutputs, Path],
                                                                       add_device, probe_jpeg: bytes) -> None:
    mine = DeviceFile.read(add_device(f"it-a-{uuid.uuid4().hex[:6]}"))
    other = f"it-b-{uuid.uuid4().hex[:6]}"
    headers = {"x-api-key": mine.api_key}
    grant = requests.post(mine.uploads_url, json={"clip": CLIP, "size": 4}, headers=headers, timeout=60).json()
    assert grant["key"] == clip_key(mine.device_id, CLIP)
    # The same signature for another device's key: S3 refuses it.
    url = urlsplit(grant["url"])
    forged = urlunsplit(url._replace(path=url.path.replace(f"/clips/{mine.device_id}/", f"/clips/{other}/")))
    assert requests.put(forged, data=b"x", headers=grant["headers"], timeout=60).status_code == 403
    # The length is signed: a longer body through the same URL is refused, the declared one accepted.
    unsized = {k: v for k, v in grant["headers"].items() if k.lower() != "content-length"}
    assert requests.put(grant["url"], data=b"mine, and a gigabyte more", headers=unsized, timeout=60).status_code == 403
    assert requests.put(grant["url"], data=b"mine", headers=grant["headers"], timeout=60).status_code == 200
    # A clip key or device header naming another device: refused, or ignored.
    claim = requests.post(mine.recognize_url, data=probe_jpeg, timeout=60, headers={
        **headers, "Content-Type": "image/jpeg", "X-Facegate-Clip-Key": clip_key(other, CLIP)})
    assert (claim.status_code, claim.json()["error"]) == (403, "not_your_clip")
    link = requests.post(mine.clip_links_url, json={"key": clip_key(other, CLIP)}, headers=headers, timeout=60)
    assert (link.status_code, link.json()["error"]) == (403, "not_your_clip")
    # A visit bundle: the device's own is signed as a ZIP PUT, another device's refused.
    visit = CLIP[:21] + "1a2b3c4d"
    own = requests.post(mine.uploads_url, json={"bundle": bundle_key(mine.device_id, visit), "size": 4},
                        headers=headers, timeout=60)
    assert own.status_code == 200 and own.json()["headers"]["Content-Type"] == "application/zip"
    assert requests.put(own.json()["url"], data=b"PK..", headers=own.json()["headers"], timeout=60).status_code == 200
    theirs = requests.post(mine.uploads_url, json={"bundle": bundle_key(other, visit), "size": 4}, headers=headers,
                           timeout=60)
    assert (theirs.status_code, theirs.json()["error"]) == (403, "not_your_clip") and theirs.json()["message"]
    for path in ("uploads", "clip-links"):
        bad = requests.post(f"{mine.api_url}/{path}", json={"clip": "../../x", "key": "../../x"}, headers=headers,
                            timeout=60)
        assert bad.status_code == 400 and set(bad.json()) == {"error", "message"}


def test_an_upload_grant_takes_the_devices_own_keys_only(deployed: tuple[StackOutputs, Path], add_device) -> None:
    """The emulator's S3 checks a POST's policy (MiniStack `_enforce_signed_post_policy`): own prefix, length range,
    content type and metadata names."""
    mine = DeviceFile.read(add_device(f"it-g-{uuid.uuid4().hex[:6]}"))
    headers = {"x-api-key": mine.api_key}
    answer = requests.post(mine.upload_grants_url, json={"content_type": "video/mp4", "metadata": ["names"]},
                           headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    grant = answer.json()
    assert grant["prefix"] == f"clips/{mine.device_id}/"

    def post(key: str, body: bytes = b"mine", **changes: str) -> requests.Response:
        fields = {**grant["fields"], "key": key, "x-amz-meta-names": "Eileen_Collins", **changes}  # the file last
        return requests.post(grant["url"], data=list(fields.items()), files=[("file", ("f", body, "video/mp4"))],
                             timeout=60)

    own = clip_key(mine.device_id, CLIP)
    assert post(clip_key(f"it-other-{uuid.uuid4().hex[:6]}", CLIP)).status_code == 403
    assert post(own, **{"Content-Type": "text/html"}).status_code == 403
    assert post(own, **{"x-amz-meta-extra": "1"}).status_code == 403
    assert post(own, body=b"x" * (32 * 1024 * 1024 + 1)).status_code in (400, 413)  # EntityTooLarge
    assert post(own).status_code in (200, 201, 204)
    link = requests.post(mine.clip_links_url, json={"key": own}, headers=headers, timeout=60).json()["url"]
    stored = requests.get(link, timeout=60)
    assert stored.content == b"mine" and stored.headers["x-amz-meta-names"] == "Eileen_Collins"
    bad = requests.post(mine.upload_grants_url, json={"content_type": "text/html"}, headers=headers, timeout=60)
    assert (bad.status_code, bad.json()["error"]) == (400, "bad_content_type")


def test_device_remove_revokes_within_seconds_and_nothing_is_lost_from_the_spool(
        deployed: tuple[StackOutputs, Path], target: Target, add_device, tmp_path: Path, probe_jpeg: bytes) -> None:
    device = f"it-gone-{uuid.uuid4().hex[:6]}"
    device_file = add_device(device)
    key = DeviceFile.read(device_file)
    assert requests.post(key.recognize_url, data=probe_jpeg, timeout=60,
                         headers={"x-api-key": key.api_key, "Content-Type": "image/jpeg"}).status_code == 200
    assert revoke(target, deployed[0].prefix, device).action.value == "deleted"
    # The functions cache a key's device for REVOKE_WITHIN_S: the next request after that is refused.
    time.sleep(REVOKE_WITHIN_S + 0.5)
    refused = requests.post(key.recognize_url, data=probe_jpeg, timeout=60,
                            headers={"x-api-key": key.api_key, "Content-Type": "image/jpeg"})
    assert refused.status_code == 403 and set(refused.json()) == {"error", "message"}

    result = run_device_cli(device_file, tmp_path, "--duration", "3", "--drain-timeout", "3")
    assert result.returncode == 0, result.stderr[-2000:]
    recorded = {e["clip"] for e in events(tmp_path, "clip_recorded")}
    assert recorded and not events(tmp_path, "upload")
    assert events(tmp_path, "auth_failed")
    spooled = {p.name for p in (tmp_path / "spool").iterdir() if (p / "state.json").exists()}
    # Every clip is still on the device: waiting in the spool for a valid key, or (a still clip nobody was seen in,
    # never sent for recognition) kept in .kept/ under the visits upload policy.
    kept = {e["clip"] for e in events(tmp_path, "kept")}
    assert spooled | kept == recorded and not spooled & kept
    kept_dir = tmp_path / "spool" / ".kept"
    assert kept == ({p.name for p in kept_dir.iterdir()} if kept_dir.is_dir() else set())
    assert all(e["status"] == "skipped_still" for e in events(tmp_path, "recognition") if e["clip"] in kept)
    states = [ClipState.from_json(json.loads((tmp_path / "spool" / c / "state.json").read_text())) for c in spooled]
    assert spooled and all(not s.upload.final for s in states)
    assert clips_under(target, deployed[0].bucket, f"clips/{device}/") == set()


def test_device_list_shows_devices_but_never_their_keys(deployed: tuple[StackOutputs, Path], add_device) -> None:
    device = f"it-list-{uuid.uuid4().hex[:6]}"
    key = DeviceFile.read(add_device(device)).api_key
    outputs = deployed[0]
    result = subprocess.run([sys.executable, "-m", "facegate_cli", "device", "list", "--endpoint-url",
                             outputs.endpoint_url or ""], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert device in result.stdout and outputs.device_id in result.stdout
    assert key not in result.stdout and outputs.api_key not in result.stdout


@pytest.mark.parametrize("command", [["s3", "ls"], ["dynamodb", "scan", "--table-name", "facegate-people",
                                                     "--max-items", "1"]])
def test_awslocal_inspects_the_local_stack(deployed: tuple[StackOutputs, Path], command: list[str]) -> None:
    awslocal = Path(sys.executable).parent / "awslocal"
    result = subprocess.run([str(awslocal), *command], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})
    assert result.returncode == 0, result.stderr[-1000:]
    assert (deployed[0].bucket if command[0] == "s3" else '"person"') in result.stdout


def test_the_sighting_records_the_keys_device_even_with_a_forged_header(
        deployed: tuple[StackOutputs, Path], target: Target, add_device, probe_jpeg: bytes) -> None:
    from boto3.dynamodb.conditions import Attr

    mine = DeviceFile.read(add_device(f"it-f-{uuid.uuid4().hex[:6]}"))
    key = clip_key(mine.device_id, CLIP)
    answer = requests.post(mine.recognize_url, data=probe_jpeg, timeout=60, headers={
        "x-api-key": mine.api_key, "Content-Type": "image/jpeg", "X-Facegate-Device": "someone-else",
        "X-Facegate-Clip-Key": key})
    assert answer.status_code == 200
    time.sleep(0.5)
    items = target.resource("dynamodb").Table(deployed[0].sightings_table).scan(
        FilterExpression=Attr("clip_key").eq(key))["Items"]
    assert items and {i["device"] for i in items} == {mine.device_id}
