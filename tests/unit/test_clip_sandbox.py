"""The console never parses a device's clip in its own process: a limited child decodes it, or it is refused."""
from __future__ import annotations

import os
import time
from pathlib import Path

import boto3
import cv2
import numpy as np
import pytest

from facegate_cli.console.clip_media import ClipMedia
from facegate_cli.console.clip_sandbox import ClipRefused, DecodeLimits, run_limited
from facegate_contract import clip_key

KEY = clip_key("door-1", "20261129T101010.500Z-000007")


def _grab(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


def _pid() -> int:
    return os.getpid()


def test_a_decode_runs_in_another_process() -> None:
    assert run_limited(_pid) != os.getpid()


def test_a_decode_past_its_memory_is_refused_and_the_console_lives_on() -> None:
    with pytest.raises(ClipRefused):
        run_limited(_grab, 2048, limits=DecodeLimits(memory_bytes=768 * 1024 * 1024))
    assert run_limited(_grab, 8) == 8 * 1024 * 1024


def test_a_decode_past_its_deadline_is_killed() -> None:
    started = time.monotonic()
    with pytest.raises(ClipRefused, match="longer than"):
        run_limited(_sleep, 30, limits=DecodeLimits(wall_s=1.0))
    assert time.monotonic() - started < 10


def _clip(path: Path, frames: int) -> bytes:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), i * 10 % 255, np.uint8))
    writer.release()
    return path.read_bytes()


@pytest.fixture
def bucket(mocked_aws: None) -> object:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="clips")
    return s3


def test_a_clip_larger_than_a_device_may_upload_is_refused_unread(bucket, tmp_path: Path) -> None:
    body = _clip(tmp_path / "c.mp4", 5)
    bucket.put_object(Bucket="clips", Key=KEY, Body=body)
    media = ClipMedia(bucket, bucket, "clips", limits=DecodeLimits(max_bytes=len(body) - 1))
    with pytest.raises(ClipRefused, match="bytes"):
        media.frame(KEY)
    assert ClipMedia(bucket, bucket, "clips").frame(KEY).frames == 5


def test_a_clip_with_too_many_frames_is_refused(bucket, tmp_path: Path) -> None:
    bucket.put_object(Bucket="clips", Key=KEY, Body=_clip(tmp_path / "c.mp4", 12))
    with pytest.raises(ClipRefused, match="frames"):
        ClipMedia(bucket, bucket, "clips", limits=DecodeLimits(max_frames=8)).playable_key(KEY)


def test_bytes_that_are_no_video_are_refused_not_a_crash(bucket) -> None:
    bucket.put_object(Bucket="clips", Key=KEY, Body=b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000))
    with pytest.raises(ValueError):  # ClipRefused or ClipMissing's ValueError kin: the page shows why
        ClipMedia(bucket, bucket, "clips").frame(KEY)
