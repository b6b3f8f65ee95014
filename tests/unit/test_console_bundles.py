"""A visit whose clips went to S3 in one bundle (the device's `visits` upload policy): the console finds each clip
inside it (downloading the bundle once), plays it, films the visit, cuts its faces; a bundle the device has not
uploaded yet is "being uploaded"."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the console extra is not installed")
pytest.importorskip("moto", reason="the dev extra (moto) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from facegate_cli.console.backend import ConsoleBackend  # noqa: E402
from facegate_cli.console.clip_media import ClipMissing, web_key  # noqa: E402
from tests.unit.console_support import FakeStack  # noqa: E402
from tests.unit.test_console import (NOW, backend, client, face_pipeline, fake_stack, frames,  # noqa: E402,F401
                                     log_in)

DEVICE = "demo-cam"


def _bundled_visit(stack: FakeStack, frames: list[np.ndarray], upload: bool = True) -> tuple[str, list[str], dict]:
    clips = [stack.add_clip(DEVICE, frames[20:30], 5, NOW), stack.add_clip(DEVICE, frames[40:50], 4, NOW + 0.5)]
    keys = [key for key, _ in clips]
    bundle = stack.bundle(DEVICE, stack.visit_id(NOW), keys, upload=upload)
    visit_id = stack.add_visit(DEVICE, "Eileen_Collins", clips, NOW, bundle=bundle)
    return visit_id, keys, clips[0][1]


def _gets_of(console: ConsoleBackend) -> list[str]:
    """Every GetObject key the console asks for, from now on."""
    keys: list[str] = []
    console.s3.meta.events.register("before-parameter-build.s3.GetObject", lambda params, **_: keys.append(params["Key"]))
    return keys


def test_a_bundled_visits_clips_play_from_its_bundle_downloaded_once(client: TestClient, backend: ConsoleBackend,
                                                                     fake_stack: FakeStack,
                                                                     frames: list[np.ndarray]) -> None:
    visit_id, keys, _ = _bundled_visit(fake_stack, frames)
    gets = _gets_of(backend)
    log_in(client)

    page = client.get(f"/visits/{visit_id}").text
    assert "left out" not in page and "can be shown" not in page  # both clips found in the bundle
    for key in keys:
        played = client.get("/clips/play", params={"key": key})
        assert played.status_code == 303 and web_key(key) in played.headers["location"]
        copy = fake_stack.s3.get_object(Bucket=fake_stack.outputs.bucket, Key=web_key(key))
        assert copy["ContentType"] == "video/webm" and copy["ContentLength"] > 0
    bundle_gets = [k for k in gets if k.endswith(".zip")]
    assert len(bundle_gets) == 1  # one download serves every clip of the visit


def test_a_bundled_visits_film_is_made_of_its_members(client: TestClient, fake_stack: FakeStack,
                                                      frames: list[np.ndarray]) -> None:
    visit_id, _, _ = _bundled_visit(fake_stack, frames)
    log_in(client)
    film = client.get(f"/visits/{visit_id}/film")
    assert film.status_code == 200 and film.headers["content-type"] == "video/webm"
    assert film.content[:4] == b"\x1aE\xdf\xa3"  # an EBML (WebM) header


def test_a_bundled_clips_face_is_cut_from_its_recognised_frame(backend: ConsoleBackend, fake_stack: FakeStack,
                                                              frames: list[np.ndarray]) -> None:
    visit_id, keys, box = _bundled_visit(fake_stack, frames)
    assert backend.visit(visit_id) is not None  # reading the visit tells the media where its clips are
    frame = backend.media.frame(keys[0])
    assert frame.index == 5  # the member's own metadata: the frame the recognizer saw
    assert backend.media.face_jpeg(keys[0], box)[:2] == b"\xff\xd8"


def test_a_bundle_not_uploaded_yet_says_being_uploaded(client: TestClient, backend: ConsoleBackend,
                                                       fake_stack: FakeStack, frames: list[np.ndarray]) -> None:
    visit_id, keys, _ = _bundled_visit(fake_stack, frames, upload=False)
    log_in(client)

    page = client.get(f"/visits/{visit_id}").text
    assert "being uploaded" in page
    played = client.get("/clips/play", params={"key": keys[0]})
    assert played.status_code == 404 and "being uploaded" in played.json()["message"]


def test_a_clip_without_a_bundle_or_an_object_is_missing(backend: ConsoleBackend, fake_stack: FakeStack,
                                                         frames: list[np.ndarray]) -> None:
    key, _ = fake_stack.add_clip(DEVICE, frames[20:30], 5, NOW)
    fake_stack.s3.delete_object(Bucket=fake_stack.outputs.bucket, Key=key)
    with pytest.raises(ClipMissing, match="expired or never uploaded"):
        backend.media.playable_key(key)
    assert backend.media.present([key]) == {key: False}


def test_a_bundle_with_a_compressed_member_is_refused_unread(backend: ConsoleBackend, fake_stack: FakeStack,
                                                             frames: list[np.ndarray], tmp_path: Any) -> None:
    import io
    import zipfile

    from facegate_cli.console.clip_sandbox import ClipRefused
    from facegate_contract import bundle_key

    key, _ = fake_stack.add_clip(DEVICE, frames[20:30], 5, NOW)
    body = fake_stack.s3.get_object(Bucket=fake_stack.outputs.bucket, Key=key)["Body"].read()
    fake_stack.s3.delete_object(Bucket=fake_stack.outputs.bucket, Key=key)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(key.rsplit("/", 1)[1], body)  # deflated: a zip bomb's way in
    bundle = bundle_key(DEVICE, fake_stack.visit_id(NOW))
    fake_stack.s3.put_object(Bucket=fake_stack.outputs.bucket, Key=bundle, Body=buffer.getvalue())
    backend.media.note_bundle(bundle, [key])
    with pytest.raises(ClipRefused, match="compressed"):
        backend.media.playable_key(key)


def test_a_bundle_missing_a_day_after_its_visit_is_not_on_its_way(client: TestClient, fake_stack: FakeStack,
                                                                  frames: list[np.ndarray]) -> None:
    clips = [fake_stack.add_clip(DEVICE, frames[20:30], 5, NOW - 2 * 86400)]
    bundle = fake_stack.bundle(DEVICE, fake_stack.visit_id(NOW - 2 * 86400), [clips[0][0]], upload=False)
    visit_id = fake_stack.add_visit(DEVICE, "Eileen_Collins", clips, NOW - 2 * 86400, bundle=bundle)
    log_in(client)
    page = client.get(f"/visits/{visit_id}").text
    assert "not in the bucket: it expired" in page and "being uploaded" not in page


def test_a_bundle_gone_from_the_bucket_is_not_served_from_memory(backend: ConsoleBackend, fake_stack: FakeStack,
                                                                 frames: list[np.ndarray]) -> None:
    visit_id, keys, _ = _bundled_visit(fake_stack, frames)
    visit = backend.visit(visit_id)
    assert visit is not None and backend.media.present(keys) == {key: True for key in keys}  # downloaded, kept
    fake_stack.s3.delete_object(Bucket=fake_stack.outputs.bucket, Key=visit.bundle)  # expired
    assert backend.media.present(keys) == {key: False for key in keys}
    with pytest.raises(ClipMissing):
        backend.media.playable_key(keys[0])
