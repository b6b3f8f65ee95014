"""The `visits` upload policy: an empty doorway stays on the device (rolling budget), a visit's clips, the margin
before it and what an alert links to go to S3; `all` uploads every clip as before."""
from __future__ import annotations

from pathlib import Path

import pytest

from facegate_contract.device_events import ClipKept, ClipRecorded, ClipUploaded, DeviceEvent, events_of
from pi_app.recording.clip_state import KEPT_LOCAL, NO_FACE, SKIPPED_STALE, UPLOADED, ClipState
from pi_app.recording.spool import CLIP_FILE, Spool, folder_bytes
from pi_app.recording.upload_policy import UploadPolicy
from pi_app.runtime.clip_worker import ClipWorker
from pi_app.runtime.stats import Stats
from tests.unit.pi_support import FakeClock, FakeRecognizer, FakeUploader, add_clip

T0 = 1_790_000_000.0


class Door:
    """A worker under the `visits` policy whose visit is open from `visit_from` on (None: never)."""

    def __init__(self, root: Path, visit_from: float | None = None, alerted: frozenset[str] = frozenset(),
                 keep_max_bytes: int = 10**9) -> None:
        self.spool = Spool(root, keep_max_bytes=keep_max_bytes)
        self.recognizer, self.uploader = FakeRecognizer(faces=[]), FakeUploader()
        self.events: list[DeviceEvent] = []
        self.worker = ClipWorker(self.spool, self.recognizer, self.uploader, self.events.append,
                                 clock=FakeClock(T0 + 10), upload_policy=UploadPolicy(mode="visits", margin_s=1.0),
                                 visit_open=lambda at: visit_from is not None and at >= visit_from,
                                 alerted=alerted.__contains__)

    def clip(self, seq: int, **changes: object) -> ClipState:
        """A clip ending at T0 + 0.5 * seq, worked on at once."""
        state = add_clip(self.spool, seq, T0 + 0.5 * seq, **changes)
        assert self.worker.process(state.clip) is None
        return state


def test_an_empty_doorway_stays_on_the_device_and_says_so(tmp_path: Path) -> None:
    door = Door(tmp_path)
    state = door.clip(0)

    assert door.uploader.objects == {}
    (kept,) = events_of(door.events, ClipKept)
    assert (kept.clip, kept.key, kept.recognition) == (state.clip, state.key, NO_FACE)
    assert door.spool.kept_clips() == [state.clip] and door.spool.clips() == []
    assert door.spool.load_kept(state.clip).upload.status == KEPT_LOCAL
    assert (door.spool.kept_folder(state.clip) / CLIP_FILE).read_bytes().startswith(b"mp4 ")


def test_a_face_uploads_its_clip_and_brings_back_the_margin_before_it(tmp_path: Path) -> None:
    door = Door(tmp_path)
    early, before, just_before = door.clip(0), door.clip(7), door.clip(8)
    door.recognizer.faces = None  # a face from now on
    face = door.clip(9)

    assert set(door.uploader.objects) == {before.key, just_before.key, face.key}
    assert door.spool.kept_clips() == [early.clip] and door.spool.clips() == []
    assert {e.clip for e in events_of(door.events, ClipUploaded)} == {before.clip, just_before.clip, face.clip}


def test_clips_while_a_visit_is_open_are_uploaded_even_without_a_face(tmp_path: Path) -> None:
    door = Door(tmp_path, visit_from=T0 + 1.2)
    long_before, outside, inside = door.clip(0), door.clip(2), door.clip(3)

    assert set(door.uploader.objects) == {outside.key, inside.key}  # the first is the margin of the second
    assert door.spool.kept_clips() == [long_before.clip]


def test_an_alerted_clip_and_a_clip_nobody_looked_at_are_uploaded(tmp_path: Path) -> None:
    alerted = add_clip(Spool(tmp_path / "scratch"), 0, T0).key  # the same key the door's clip 0 gets
    door = Door(tmp_path / "door", alerted=frozenset({alerted}))
    first = door.clip(0)
    stale = door.clip(5, recognition__status=SKIPPED_STALE)

    assert first.key == alerted
    assert set(door.uploader.objects) == {first.key, stale.key}


def test_the_kept_area_is_a_rolling_budget_oldest_first(tmp_path: Path) -> None:
    one = Door(tmp_path / "one")
    size = folder_bytes(one.spool.kept_folder(one.clip(0).clip))  # a kept clip with its state
    door = Door(tmp_path / "door", keep_max_bytes=3 * size + size // 2)
    clips = [door.clip(seq).clip for seq in range(6)]

    kept = door.spool.kept_clips()
    assert kept == clips[-3:]
    assert door.spool.kept_bytes() <= 3 * size + size // 2
    assert [c for e in events_of(door.events, ClipKept) for c in e.evicted] == clips[:3]
    assert Spool(tmp_path / "door").kept_bytes() == door.spool.kept_bytes()  # a restart counts the same area


def test_a_brought_back_clip_is_uploaded_even_after_a_restart(tmp_path: Path) -> None:
    door = Door(tmp_path)
    kept = door.clip(0)
    state = door.spool.promote(kept.clip)
    assert state is not None and door.spool.unfinished() == [kept.clip]

    after_restart = Door(tmp_path)  # no visit open, no face: it is uploaded all the same
    assert after_restart.worker.process(kept.clip) is None
    assert set(after_restart.uploader.objects) == {kept.key}
    assert after_restart.spool.kept_clips() == []


def test_all_uploads_every_clip_as_before(tmp_path: Path) -> None:
    spool, uploader = Spool(tmp_path), FakeUploader()
    worker = ClipWorker(spool, FakeRecognizer(faces=[]), uploader, lambda e: None, clock=FakeClock(T0 + 10),
                        upload_policy=UploadPolicy(mode="all"))
    state = add_clip(spool, 0, T0)
    assert worker.process(state.clip) is None
    assert set(uploader.objects) == {state.key} and spool.kept_clips() == []


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="visits"):
        UploadPolicy(mode="some")  # type: ignore[arg-type]


def test_a_clip_marked_kept_before_a_crash_moved_it_is_moved_at_the_next_start(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    state = add_clip(spool, 0, T0, recognition__status=NO_FACE, upload__status=KEPT_LOCAL)

    assert Spool(tmp_path).unfinished() == []
    assert Spool(tmp_path).kept_clips() == [state.clip] and spool.clips() == []


def test_the_device_counts_kept_clips_as_done_not_pending() -> None:
    stats = Stats()
    stats.handle(ClipRecorded(clip="c1"))
    stats.handle(ClipKept(clip="c1", key="k1", recognition=NO_FACE))
    assert (stats.counters()["kept"], stats.counters()["pending_uploads"]) == (1, 0)


def test_a_clip_kept_while_another_worker_starts_a_visit_that_reaches_it_is_uploaded(tmp_path: Path) -> None:
    answers = iter([False, True])  # no visit when the clip is weighed; one (another worker's face) once it is kept
    spool, uploader = Spool(tmp_path), FakeUploader()
    worker = ClipWorker(spool, FakeRecognizer(faces=[]), uploader, lambda e: None, clock=FakeClock(T0 + 10),
                        upload_policy=UploadPolicy(), visit_open=lambda at: next(answers))
    state = add_clip(spool, 0, T0)
    assert worker.process(state.clip) is None
    assert set(uploader.objects) == {state.key} and spool.kept_clips() == []
