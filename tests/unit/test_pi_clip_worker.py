"""Worker rules: nothing is lost while the backend is down, the backlog drains when it returns, 4xx is final,
stale clips skip recognition but are still uploaded."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from facegate_contract.device_events import DeviceEvent
from facegate_contract.wire import to_builtins
from pi_app.transport.backoff import Backoff
from pi_app.transport.retry_gate import RetryGate
from facegate_contract import clip_key
from pi_app.recording.clip_state import NO_FACE, RECOGNISED, REFUSED, SKIPPED_STALE, UPLOADED
from pi_app.runtime.clip_worker import ClipWorker
from pi_app.recording.spool import Spool
from pi_app.runtime.work_queue import WorkQueue
from tests.unit.pi_support import BOX, FakeClock, FakeRecognizer, FakeUploader, add_clip

NO_JITTER = Backoff(base_s=1.0, max_s=8.0, jitter=0.0)
AUTH_NO_JITTER = Backoff(base_s=60.0, max_s=900.0, jitter=0.0)


class Rig:
    """A spool, a worker with fake services, and a queue driven by hand on a fake clock."""

    def __init__(self, root: Path, stale_after_s: float = 60.0) -> None:
        self.clock = FakeClock()
        self.spool = Spool(root)
        self.recognizer, self.uploader = FakeRecognizer(), FakeUploader()
        self.events: list[DeviceEvent] = []
        self.worker = ClipWorker(self.spool, self.recognizer, self.uploader, self.events.append,
                                 stale_after_s=stale_after_s, clock=self.clock,
                                 recognize_gate=RetryGate(NO_JITTER, self.clock),
                                 upload_gate=RetryGate(NO_JITTER, self.clock), auth_backoff=AUTH_NO_JITTER)
        self.queue = WorkQueue(self.clock)

    def record(self, n: int) -> list[str]:
        clips = [add_clip(self.spool, seq, self.clock.now).clip for seq in range(n)]
        for clip in clips:
            self.queue.put(clip)
        return clips

    def work_due(self) -> int:
        """Process every clip that is due now (as the pool would); returns how many were taken."""
        taken = 0
        while (clip := self.queue.take()) is not None:
            taken += 1
            retry_at = self.worker.process(clip)
            if retry_at is not None:
                self.queue.put(clip, retry_at)
            self.queue.task_done()
        return taken

    def events_of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.name == kind]


def test_backend_down_loses_nothing_and_the_backlog_drains_when_it_returns(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.recognizer.up = rig.uploader.up = False
    clips = rig.record(5)

    for _ in range(4):  # several rounds of the backend being down
        rig.work_due()
        rig.clock.advance(10)

    assert rig.spool.unfinished() == clips  # every clip still on disk, waiting
    assert rig.uploader.objects == {}
    assert rig.queue.pending() == 5

    rig.recognizer.up = rig.uploader.up = True
    rig.clock.advance(10)
    rig.work_due()

    assert rig.spool.unfinished() == [] and rig.queue.pending() == 0
    assert sorted(rig.uploader.objects) == [clip_key("dev-1", c) for c in clips]
    assert {meta["recognition"] for _, meta in rig.uploader.objects.values()} == {RECOGNISED}
    assert [e.status for e in rig.events_of("recognition")] == [RECOGNISED] * 5


def test_while_the_gate_is_closed_clips_wait_instead_of_calling_the_backend(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.recognizer.up = False
    rig.record(5)

    rig.work_due()

    assert len(rig.recognizer.calls) == 1  # the first failure closed the gate for the other four
    assert len(rig.events_of("failure")) == 1
    rig.clock.advance(0.5)
    assert rig.work_due() == 0  # nothing is due before the backoff ends
    rig.clock.advance(0.5)
    rig.work_due()
    assert len(rig.recognizer.calls) == 2  # one probe per backoff period, not one per clip


def test_the_backoff_grows_while_the_backend_stays_down_and_resets_when_it_answers(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.recognizer.up = False
    rig.record(1)
    waits = []
    for _ in range(5):
        rig.work_due()
        waits.append(rig.events_of("failure")[-1].retry_in_s)
        rig.clock.advance(waits[-1])

    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0]  # doubling, capped
    rig.recognizer.up = True
    rig.work_due()
    assert rig.worker.recognize_gate.failures == 0


def test_a_4xx_refusal_is_final_and_the_clip_is_still_uploaded(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.recognizer.refuse = True
    (clip,) = rig.record(1)

    rig.work_due()
    rig.clock.advance(100)
    rig.work_due()

    assert len(rig.recognizer.calls) == 1  # never retried
    (event,) = rig.events_of("recognition")
    assert event.status == REFUSED and "400" in event.error
    (metadata,) = [meta for _, meta in rig.uploader.objects.values()]
    assert metadata["recognition"] == REFUSED
    assert rig.spool.unfinished() == []


def test_stale_clips_skip_recognition_but_are_uploaded(tmp_path: Path) -> None:
    rig = Rig(tmp_path, stale_after_s=30)
    old = rig.record(2)
    rig.clock.advance(31)  # recognition fell behind: those two are now too old
    fresh = add_clip(rig.spool, 2, rig.clock.now).clip
    rig.queue.put(fresh)

    rig.work_due()

    assert rig.recognizer.keys == [clip_key("dev-1", fresh)]
    statuses = {e.clip: e.status for e in rig.events_of("recognition")}
    assert statuses == {old[0]: SKIPPED_STALE, old[1]: SKIPPED_STALE, fresh: RECOGNISED}
    assert all(e.age_s == 31.0 for e in rig.events_of("recognition") if e.status == SKIPPED_STALE)
    assert len(rig.uploader.objects) == 3  # never dropped


def test_a_clip_waiting_on_a_down_backend_turns_stale_and_is_uploaded(tmp_path: Path) -> None:
    rig = Rig(tmp_path, stale_after_s=5)
    rig.recognizer.up = False
    rig.record(1)

    for _ in range(4):
        rig.work_due()
        rig.clock.advance(2)

    assert [e.status for e in rig.events_of("recognition")] == [SKIPPED_STALE]
    assert len(rig.uploader.objects) == 1


def test_upload_failures_are_retried_without_recognising_again(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.uploader.up = False
    (clip,) = rig.record(1)

    rig.work_due()
    assert rig.spool.load(clip).recognition.status == RECOGNISED
    assert rig.spool.load(clip).upload.status != UPLOADED
    rig.uploader.up = True
    rig.clock.advance(1)
    rig.work_due()

    assert len(rig.recognizer.calls) == 1
    assert rig.uploader.attempts == 2 and len(rig.uploader.objects) == 1
    assert [e.stage for e in rig.events_of("failure")] == ["upload"]


def test_no_face_is_recorded_as_such(tmp_path: Path) -> None:
    rig = Rig(tmp_path)

    rig.worker.recognizer = FakeRecognizer(faces=[])
    rig.record(1)
    rig.work_due()

    assert [e.status for e in rig.events_of("recognition")] == [NO_FACE]
    (metadata,) = [meta for _, meta in rig.uploader.objects.values()]
    assert "names" not in metadata and metadata["recognition"] == NO_FACE


def test_the_recognition_event_carries_the_clip_key_and_each_face_with_its_details(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    faces = [{"name": "Alvaro_Uribe", "confidence": 0.91, "distance": 0.4, "box": BOX,
              "details": {"name": "Alvaro Uribe", "allow_entry": False}, "descriptor": "AAECAwQFBgc="},
             {"name": "unknown", "confidence": 0.55, "distance": 0.7, "box": BOX}]

    rig.worker.recognizer = FakeRecognizer(faces=faces)
    (clip,) = rig.record(1)
    recorded_at = rig.spool.load(clip).recorded_at
    rig.work_due()

    (event,) = rig.events_of("recognition")
    assert (event.key, event.recorded_at) == (clip_key("dev-1", clip), recorded_at)
    assert to_builtins(event.faces) == [  # the answer's faces (visits group by box), without the descriptor
        {"name": "Alvaro_Uribe", "confidence": 0.91, "box": BOX, "distance": 0.4, "details_unavailable": False,
         "details": {"name": "Alvaro Uribe", "allow_entry": False}, "sighting_id": None, "door": False,
         "descriptor": None},
        {"name": "unknown", "confidence": 0.55, "box": BOX, "distance": 0.7, "details": {}, "details_unavailable": False,
         "sighting_id": None, "door": False, "descriptor": None}]
    assert event.names == ["Alvaro_Uribe", "unknown"] and event.status == RECOGNISED
