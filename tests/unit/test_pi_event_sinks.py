"""A failing event sink (the JSONL log on a full disk, a broken action) is logged and counted, the other sinks
still get every event, and no clip is ever stopped or dropped because of it."""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from facegate_contract.device_events import ClipUploaded
from pi_app.camera import VideoFileCamera
from pi_app.runtime.clip_worker import ClipWorker
from pi_app.runtime.device_app import DeviceApp
from pi_app.runtime.events import EventBus, EventLog, read_events
from pi_app.recording.spool import Spool
from pi_app.runtime.work_queue import WorkQueue
from pi_app.runtime.worker_pool import WorkerPool
from tests.unit.pi_support import FakeClock, FakeRecognizer, FakeUploader, add_clip, moving_face_video
from tests.unit.test_pi_device_app import _config


class DiskFull:
    """A sink that fails like a log file on a full disk, for the events named in `on` (every event when empty)."""

    def __init__(self, *on: str) -> None:
        self.on = on

    def handle(self, event: dict) -> None:
        if not self.on or event.name in self.on:
            raise OSError(28, "No space left on device")


class Collect:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def handle(self, event: dict) -> None:
        self.events.append(event)


def test_a_raising_sink_never_escapes_emit_and_the_other_sinks_still_get_the_event(
        caplog: pytest.LogCaptureFixture) -> None:
    before, after = Collect(), Collect()
    bus = EventBus([before, DiskFull(), after], FakeClock())

    with caplog.at_level(logging.ERROR, logger="pi_app.runtime.events"):
        for n in range(3):
            bus.emit(ClipUploaded(clip=f"c{n}", key=f"k{n}"))

    assert [e.clip for e in before.events] == [e.clip for e in after.events] == ["c0", "c1", "c2"]
    assert bus.sink_errors() == {"DiskFull": 3}
    (record,) = caplog.records  # the first failure with its traceback; not one line per event
    assert record.msg == "event sink failed" and record.sink == "DiskFull" and record.exc_info is not None


def test_a_sink_raising_after_the_state_was_saved_does_not_drop_the_clip(tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    # The reproduction: the recognition event is emitted after recognition was saved. A sink raising there used
    # to escape `process`, and the pool dropped the clip: upload pending for ever, yet the queue reported idle.
    spool, uploader = Spool(tmp_path), FakeUploader()
    bus = EventBus([DiskFull("recognition")])
    worker = ClipWorker(spool, FakeRecognizer(), uploader, bus.emit)
    queue = WorkQueue()
    state = add_clip(spool, 0, time.time())
    queue.put(state.clip)
    pool = WorkerPool(queue, worker.process, threads=1, poll_s=0.01)

    with caplog.at_level(logging.ERROR):
        pool.start()
        try:
            assert queue.wait_idle(10)
        finally:
            pool.stop()

    assert list(uploader.objects) == [state.key]
    assert spool.clips() == []  # finished and removed
    assert bus.sink_errors() == {"DiskFull": 1}
    assert not [r for r in caplog.records if r.name == "pi_app.runtime.worker_pool"]  # the worker never crashed


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_the_event_log_on_a_full_disk_does_not_stop_the_device(tmp_path: Path) -> None:
    video = moving_face_video(tmp_path / "door.mp4", seconds=1.5, fps=20)
    uploader = FakeUploader()

    summary = DeviceApp(_config(tmp_path, events_path=Path("/dev/full")), VideoFileCamera(video, realtime=False),
                        FakeRecognizer(), uploader).run()  # every write to /dev/full fails with ENOSPC

    assert (summary["clips"], summary["recognised"], summary["bundled"], summary["pending"]) == (3, 3, 3, 0)
    assert summary["drained"] is True and len(uploader.objects) == 1  # the visit's bundle
    # 3 recorded, 3 recognitions, the visit's started / decided / ended, its bundle: each one lost, counted
    assert summary["sink_errors"] == {"EventLog": 10}


def test_an_event_cut_short_by_a_full_disk_does_not_garble_the_next_one(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    real_write = os.write
    calls = {"n": 0}

    def half_then_full(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, data[: len(data) // 2])  # a partial write...
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")  # ...then the disk is full
        return real_write(fd, data)

    monkeypatch.setattr("pi_app.runtime.events.os.write", half_then_full)
    bus = EventBus([log], FakeClock())
    bus.emit(ClipUploaded(clip="lost", key="k1"))
    bus.emit(ClipUploaded(clip="kept", key="k2"))  # space again
    log.close()

    assert [e.clip for e in read_events(tmp_path / "events.jsonl")] == ["kept"]
    assert bus.sink_errors() == {"EventLog": 1}
