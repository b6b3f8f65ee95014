"""A spool an SD card corrupted (empty, cut short or misshapen state.json, a lost frame.jpg, an empty or lost
clip.mp4): every clip whose video is intact still reaches the uploader, at once, nothing crashes or is retried for
ever, and the next start has nothing left to complain about."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from facegate_contract import clip_key
from pi_app.recording.clip_state import RECOGNISED, SKIPPED_NO_FRAME, SKIPPED_RECOVERED, ClipState
from pi_app.runtime.clip_worker import ClipWorker
from pi_app.recording.spool import CLIP_FILE, DAMAGED, FRAME_FILE, STATE_FILE, Spool
from tests.unit.pi_support import FakeClock, FakeRecognizer, FakeUploader, add_clip, face_frame, write_video

DEVICE = "dev-1"
INTACT_VIDEO = ["intact", "empty_state", "truncated_state", "list_state", "wrong_types", "another_clips_state",
                "no_frame"]
NO_VIDEO = ["empty_video", "no_video"]


def _corrupt_spool(root: Path, clock: FakeClock) -> dict[str, ClipState]:
    spool = Spool(root, device_id=DEVICE)
    clips = {name: add_clip(spool, seq, clock.now, DEVICE) for seq, name in enumerate(INTACT_VIDEO + NO_VIDEO)}

    def path(name: str, file: str) -> Path:
        return spool.folder(clips[name].clip) / file

    path("empty_state", STATE_FILE).write_text("")
    text = path("truncated_state", STATE_FILE).read_text()
    path("truncated_state", STATE_FILE).write_text(text[:len(text) // 2])
    path("list_state", STATE_FILE).write_text("[1, 2, 3]")
    path("wrong_types", STATE_FILE).write_text(json.dumps({**json.loads(text), "clip": clips["wrong_types"].clip,
                                                           "recorded_at": "yesterday"}))
    path("another_clips_state", STATE_FILE).write_text(text)  # the intact clip's state, in the wrong folder
    path("no_frame", FRAME_FILE).unlink()  # and its stand-in video has no frame to take again
    path("empty_video", CLIP_FILE).write_bytes(b"")
    path("no_video", CLIP_FILE).unlink()
    path("no_video", STATE_FILE).write_text("{")
    return clips


def test_every_intact_clip_of_a_corrupt_spool_reaches_the_uploader_at_once(tmp_path: Path,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    clips = _corrupt_spool(tmp_path, clock)
    spool = Spool(tmp_path, device_id=DEVICE)  # the device starts again
    recognizer, uploader, events = FakeRecognizer(), FakeUploader(), []
    worker = ClipWorker(spool, recognizer, uploader, events.append, clock=clock)

    pending = spool.unfinished()
    for clip in pending:
        assert worker.process(clip) is None  # finished in one go: nothing waits for a retry

    key = {name: clip_key(DEVICE, state.clip) for name, state in clips.items()}
    assert sorted(uploader.objects) == sorted(key[name] for name in INTACT_VIDEO)
    assert uploader.attempts == len(INTACT_VIDEO)
    for name in INTACT_VIDEO:  # each folder's own video under its own key
        assert uploader.objects[key[name]][0] == b"mp4 " + clips[name].clip.encode()
    statuses = {e.clip: e.status for e in events if e.name == "recognition"}
    assert statuses[clips["intact"].clip] == RECOGNISED and recognizer.keys == [key["intact"]]
    assert statuses[clips["no_frame"].clip] == SKIPPED_NO_FRAME
    for name in ("empty_state", "truncated_state", "list_state", "wrong_types", "another_clips_state"):
        assert uploader.objects[key[name]][1]["recognition"] == SKIPPED_RECOVERED, name
    assert sorted(p.name for p in (tmp_path / DAMAGED).iterdir()) == sorted(clips[n].clip for n in NO_VIDEO)
    assert spool.clips() == []

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert Spool(tmp_path, device_id=DEVICE).unfinished() == []
    assert caplog.records == []  # nothing is complained about again at the next start


def test_a_rebuilt_state_is_read_once_and_takes_what_the_video_says(tmp_path: Path) -> None:
    clock = FakeClock()
    spool = Spool(tmp_path, device_id=DEVICE)
    state = add_clip(spool, 0, clock.now, DEVICE)
    write_video(spool.folder(state.clip) / CLIP_FILE, [face_frame(i) for i in range(6)], fps=10)
    (spool.folder(state.clip) / STATE_FILE).write_text("\0\0\0\0")  # what a power cut can leave on an SD card

    (clip,) = Spool(tmp_path, device_id=DEVICE).unfinished()
    rebuilt = spool.load(clip)  # saved: the next start reads it like any other

    assert (rebuilt.key, rebuilt.device_id, rebuilt.frames, rebuilt.duration_s) == (state.key, DEVICE, 6, 0.6)
    assert rebuilt.started_at == pytest.approx(state.recorded_at, abs=0.001)  # from the clip's id
    assert rebuilt.fourcc and rebuilt.recognition.status == SKIPPED_RECOVERED and not rebuilt.upload.final


def _difference(jpeg: bytes, rgb: np.ndarray) -> float:
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    expected = cv2.resize(rgb, (decoded.shape[1], decoded.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.abs(decoded.astype(np.int16) - expected.astype(np.int16)).mean())


def test_a_lost_frame_is_taken_again_from_the_clip(tmp_path: Path) -> None:
    clock = FakeClock()
    spool = Spool(tmp_path, device_id=DEVICE)
    state = add_clip(spool, 0, clock.now, DEVICE)
    frames = [face_frame(40 * i) for i in range(6)]
    write_video(spool.folder(state.clip) / CLIP_FILE, frames, fps=10)
    state.frame_index = 3
    spool.save(state)
    (spool.folder(state.clip) / FRAME_FILE).unlink()
    recognizer = FakeRecognizer()

    assert ClipWorker(spool, recognizer, FakeUploader(), lambda event: None, clock=clock).process(state.clip) is None

    ((frame, key),) = recognizer.calls
    assert key == state.key
    assert _difference(frame, frames[3]) < min(_difference(frame, frames[i]) for i in (0, 1, 5))
