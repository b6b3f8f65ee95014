"""Footage requests against the emulator stack: a provisioned device runs the demo video with only its device file and
keeps the empty doorway's clips on the device; the console's backend asks it for their range; the device, run again,
polls (its own key, the deployed API), uploads them as one bundle under its own prefix and answers; the console reads the
request as uploaded and a clip of it plays (is transcoded) through the console's media path. Another device neither
sees the request nor answers it."""
from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import requests

from facegate_cli.console.backend import ConsoleBackend
from facegate_cli.console.clip_media import web_key
from facegate_contract import FOOTAGE_RESULTS_PATH, DeviceFile, StackOutputs, clip_key, footage_key
from pi_app.recording.spool import Spool
from pi_app.runtime.footage import SETTLE_S
from pi_app.transport.stack_connection import connect
from services.target import Target
from tests.integration.conftest import ENDPOINT
from tests.integration.test_devices import run_device_cli


@pytest.fixture(scope="module")
def console(deployed: tuple[StackOutputs, Path]) -> ConsoleBackend:
    return ConsoleBackend.open(deployed[1], ENDPOINT, None)


def test_a_device_uploads_the_footage_it_kept_when_the_console_asks(
        deployed: tuple[StackOutputs, Path], enrolled: StackOutputs, target: Target, add_device, console: ConsoleBackend,
        tmp_path: Path) -> None:
    device = f"it-footage-{uuid.uuid4().hex[:6]}"
    device_file = add_device(device)
    run = run_device_cli(device_file, tmp_path, "--footage-poll-s", "0")  # nobody asked yet: no poller
    assert run.returncode == 0, run.stderr[-2000:]
    spool = Spool(tmp_path / "spool", device_id=device)
    kept = {clip: spool.load_kept(clip) for clip in spool.kept_clips()}
    assert kept, "the demo's empty doorway is kept on the device"
    since, until = min(s.started_at for s in kept.values()), max(s.started_at for s in kept.values())
    assert until - since <= 300

    record = console.request_footage(device, since - 0.01, until + 0.01)
    assert record.state.status == "requested"
    time.sleep(max(0.0, until + 0.5 + SETTLE_S - time.time()))  # the range is over for the device

    other_file = add_device(f"it-footage-other-{uuid.uuid4().hex[:6]}")
    connection, other = connect(device_file=device_file), connect(device_file=other_file)
    try:
        assert [a.request_id for a in connection.footage.open_requests()] == [record.request_id]
        assert other.footage.open_requests() == []  # another device's request is not its to see...
        stranger = DeviceFile.read(other_file)
        theirs = requests.post(stranger.api_url + FOOTAGE_RESULTS_PATH, headers={"x-api-key": stranger.api_key},
                               json={"request_id": record.request_id, "status": "nothing_kept"}, timeout=60)
        assert (theirs.status_code, theirs.json()["error"]) == (403, "not_your_request")  # ...nor to answer
        # The device runs again (real time, 4 s), polling every second: it answers with what it kept.
        again = run_device_cli(device_file, tmp_path, "--realtime", "--duration", "4", "--footage-poll-s", "1")
        assert again.returncode == 0, again.stderr[-2000:]
        assert connection.footage.open_requests() == []
    finally:
        connection.close()
        other.close()

    done = console.footage_request(record.request_id)
    assert done is not None and done.state.status == "uploaded" and set(done.clips) == set(kept)
    key = footage_key(device, record.request_id)
    assert done.state.key == key and key.startswith(f"clips/{device}/")
    s3 = target.client("s3")
    bundle = s3.get_object(Bucket=deployed[0].bucket, Key=key)
    assert bundle["ContentType"] == "application/zip" and bundle["Metadata"]["footage-request"] == record.request_id
    with zipfile.ZipFile(io.BytesIO(bundle["Body"].read())) as archive:
        assert {info.filename for info in archive.infolist()} == {f"{clip}.mp4" for clip in kept}
        assert json.loads(archive.infolist()[0].comment)["device"] == device
    # A clip of it plays in the browser: the console takes it out of the bundle and makes the browser's copy.
    clip = clip_key(device, sorted(kept)[0])
    assert console.media.playable_key(clip) == web_key(clip)
    copy = s3.head_object(Bucket=deployed[0].bucket, Key=web_key(clip))
    assert copy["ContentType"] == "video/webm" and copy["ContentLength"] > 0
