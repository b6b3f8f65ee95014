"""The spool's disk budget: recording pauses (nothing recorded is lost, recorded clips keep draining), says so,
counts the frames it could not record, and resumes when space frees. Disk usage comes from a fake probe."""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facegate_contract.device_events import RecordingPaused
from pi_app.camera.base import Frame
from pi_app.runtime.device_app import DeviceApp
from pi_app.recording.spool import Spool
from pi_app.recording.spool_budget import DISK_LOW, SPOOL_FULL, RecordingGuard, SpaceReading, SpoolLimits
from pi_app.recording.upload_policy import UploadPolicy
from pi_app.runtime.views import PlainView
from tests.unit.pi_support import FakeRecognizer, FakeUploader, add_clip, stored_clip_keys
from tests.unit.test_pi_device_app import _config

LIMITS = SpoolLimits(max_bytes=1000, min_free_bytes=100)  # resume under 950 bytes and over 105 free
ROOMY = SpaceReading(spool_bytes=0, free_bytes=10**9)


@dataclass
class FakeSpace:
    """A disk whose numbers the test sets."""

    reading: SpaceReading = ROOMY

    def read(self) -> SpaceReading:
        return self.reading


class StepCamera:
    """`count` small grey frames at `fps`; `before(i)` runs before frame i is handed out (to change the disk)."""

    def __init__(self, count: int, before: Callable[[int], None] = lambda i: None, fps: float = 20.0) -> None:
        self.fps, self.count, self.before = fps, count, before

    def frames(self) -> Iterator[Frame]:
        for i in range(self.count):
            self.before(i)
            yield Frame(np.full((48, 64, 3), 100 + i, np.uint8), i / self.fps)

    def close(self) -> None:
        pass


def _guard(space: FakeSpace) -> tuple[RecordingGuard, list[dict]]:
    events: list[dict] = []
    return RecordingGuard(LIMITS, space, events.append), events


def test_recording_pauses_when_the_spool_is_full_and_resumes_with_room_to_spare() -> None:
    space = FakeSpace()
    guard, events = _guard(space)
    assert guard.admit()

    space.reading = SpaceReading(spool_bytes=1000, free_bytes=10**9)
    assert [guard.admit() for _ in range(3)] == [False] * 3
    (paused,) = events
    assert paused == RecordingPaused(reason=SPOOL_FULL, spool_bytes=1000, spool_max_bytes=1000, free_bytes=10**9,
                                     min_free_bytes=100)

    space.reading = SpaceReading(spool_bytes=999, free_bytes=10**9)  # a byte under the budget is no room yet
    assert not guard.admit()
    space.reading = SpaceReading(spool_bytes=950, free_bytes=10**9)
    assert guard.admit()
    resumed = events[-1]
    assert (resumed.name, resumed.after, resumed.frames_dropped) == ("recording_resumed", SPOOL_FULL, 4)
    assert guard.frames_dropped == 4 and not guard.paused


def test_recording_pauses_under_the_free_space_floor() -> None:
    space = FakeSpace(SpaceReading(spool_bytes=10, free_bytes=99))
    guard, events = _guard(space)

    assert not guard.admit()
    space.reading = SpaceReading(spool_bytes=10, free_bytes=104)
    assert not guard.admit()
    space.reading = SpaceReading(spool_bytes=10, free_bytes=105)
    assert guard.admit()
    assert [(e.name, getattr(e, "reason", None)) for e in events] == [("recording_paused", DISK_LOW),
                                                                       ("recording_resumed", None)]


def test_the_app_keeps_the_clip_in_progress_drops_frames_while_paused_and_resumes(tmp_path: Path) -> None:
    space = FakeSpace()
    full, freed = SpaceReading(1000, 10**9), SpaceReading(900, 10**9)
    camera = StepCamera(40, lambda i: setattr(space, "reading", {15: full, 30: freed}.get(i, space.reading)))
    out, seen = io.StringIO(), []

    class Seen:
        def handle(self, event: dict) -> None:
            seen.append(event)

    uploader = FakeUploader()
    summary = DeviceApp(_config(tmp_path, spool_limits=LIMITS), camera, FakeRecognizer(), uploader,
                        view=PlainView(out), sinks=[Seen()], space_probe=space).run()

    recorded = [e.frames for e in seen if e.name == "clip_recorded"]
    assert recorded == [10, 5, 10]  # the clip in progress at the pause (frames 10-14) is kept
    assert summary["frames_dropped_paused"] == 15 and sum(recorded) + 15 == camera.count  # every frame accounted for
    # no face in any clip: under the visits upload policy each stays on the device (kept), none is left pending
    assert (summary["kept"], summary["uploaded"], summary["pending"], summary["recording_paused"]) == (3, 0, 0, None)
    kinds = [e.name for e in seen]
    assert kinds.count("recording_paused") == kinds.count("recording_resumed") == 1
    lines = out.getvalue()
    assert "recording PAUSED (spool_full)" in lines
    assert "recording resumed after" in lines and "15 frame(s) were not recorded" in lines


def test_while_paused_the_clips_already_in_the_spool_keep_draining(tmp_path: Path) -> None:
    waiting = add_clip(Spool(tmp_path / "spool"), 0, 1e10, device_id="door-1")  # recorded before the restart (far future: not stale)
    uploader = FakeUploader()

    summary = DeviceApp(_config(tmp_path, spool_limits=LIMITS), StepCamera(20), FakeRecognizer(), uploader,
                        space_probe=FakeSpace(SpaceReading(5000, 10**9))).run()

    assert (summary["clips"], summary["frames_dropped_paused"], summary["recording_paused"]) == (0, 20, SPOOL_FULL)
    assert stored_clip_keys(uploader) == [waiting.key] and summary["pending"] == 0


def test_the_real_probe_counts_committed_clips_and_nothing_recorded_is_lost(tmp_path: Path) -> None:
    # A one-byte budget with the upload down: the first committed clip fills the spool and stays.
    uploader = FakeUploader(up=False)
    seen: list[dict] = []

    class Seen:
        def handle(self, event: dict) -> None:
            seen.append(event)

    # every clip for S3 (upload all): under the visits policy these empty clips would be kept, not left waiting
    summary = DeviceApp(_config(tmp_path, spool_limits=SpoolLimits(max_bytes=1, min_free_bytes=0), drain_timeout_s=0.2,
                                upload=UploadPolicy(mode="all")),
                        StepCamera(30), FakeRecognizer(), uploader, sinks=[Seen()]).run()

    recorded = [e.frames for e in seen if e.name == "clip_recorded"]
    assert recorded == [10, 1]  # frame 10 opened the second clip as the first was committed; then paused
    assert summary["frames_dropped_paused"] == 19 and summary["pending"] == 2
    assert len(Spool(tmp_path / "spool").unfinished()) == 2
