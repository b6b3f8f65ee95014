"""When a service is in trouble that is not the frame's fault: a backend that hangs costs a worker one bounded
attempt (and only one worker probes it while it fails), rejected credentials and throttling keep clips pending
and hold the gate as long as they call for, and a clip waiting on recognition still turns stale and is uploaded
on time. Nothing is dropped."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from facegate_contract import clip_key
from facegate_contract.device_events import AuthFailed, ClipRecognition, ClipUploaded, Throttled
from pi_app.transport.backoff import Backoff
from pi_app.recording.clip_state import PENDING, RECOGNISED, SKIPPED_STALE
from pi_app.runtime.clip_worker import ClipWorker
from pi_app.transport.api_session import ApiSession, AttemptTimeout
from pi_app.transport.recognize_client import RecognizeClient, Recognition
from pi_app.transport.retry_gate import RetryGate
from pi_app.transport.service_errors import (ServiceAuthRejected, ServiceRefused, ServiceThrottled, ServiceUnavailable,
                                   error_for_status)
from pi_app.recording.spool import Spool
from pi_app.runtime.stats import Stats
from pi_app.runtime.work_queue import WorkQueue
from pi_app.runtime.worker_pool import WorkerPool
from tests.unit.pi_support import FakeClock, FakeUploader, add_clip, hanging_server
from tests.unit.test_pi_clip_worker import AUTH_NO_JITTER, Rig

QUICK = AttemptTimeout(connect_s=1.0, read_s=0.3)


def test_a_hanging_backend_frees_the_worker_within_the_timeout_and_the_gate_retries(tmp_path: Path) -> None:
    rig = Rig(tmp_path, stale_after_s=5)
    with hanging_server() as server:
        rig.worker.recognizer = RecognizeClient(server.url, ApiSession("k", QUICK))
        (clip,) = rig.record(1)

        started = time.monotonic()
        rig.work_due()
        held_s = time.monotonic() - started
        (failure,) = rig.events_of("failure")
        assert held_s < QUICK.total_s + 1.0  # free again after one attempt, not minutes of retries
        assert server.connections == 1 and "ReadTimeout" in failure.error
        assert rig.spool.load(clip).recognition.status == PENDING and rig.queue.pending() == 1

        rig.clock.advance(failure.retry_in_s)  # the gate reopens: the worker's backoff is the one retrying
        rig.work_due()
        assert server.connections == 2 and len(rig.events_of("failure")) == 2

        rig.clock.advance(5)  # still no answer, and now the clip is too old to be worth recognising
        rig.work_due()
        connections = server.connections

    assert connections == 2  # a stale clip makes no call
    assert [e.status for e in rig.events_of("recognition")] == [SKIPPED_STALE]
    assert list(rig.uploader.objects) == [clip_key("dev-1", clip)] and rig.spool.unfinished() == []


def test_rejected_credentials_keep_the_clip_pending_and_shut_the_gate_for_the_long_backoff(tmp_path: Path) -> None:
    rig = Rig(tmp_path, stale_after_s=300)
    rig.recognizer.error = ServiceAuthRejected("recognize answered 403", status=403)
    clips = rig.record(3)

    rig.work_due()

    (event,) = rig.events_of("auth_failed")
    assert (event.stage, event.status, event.retry_in_s) == ("recognize", 403, AUTH_NO_JITTER.base_s)
    assert len(rig.recognizer.calls) == 1  # one probe, the other clips wait behind the gate
    assert rig.events_of("recognition") == [] and rig.events_of("failure") == []  # not refused, not final
    rig.clock.advance(AUTH_NO_JITTER.base_s - 1)
    assert rig.work_due() == 0  # nothing before the long backoff is over

    rig.recognizer.error = None  # the key was fixed
    rig.clock.advance(1)
    rig.work_due()
    assert [e.status for e in rig.events_of("recognition")] == [RECOGNISED] * 3
    assert sorted(rig.uploader.objects) == sorted(clip_key("dev-1", c) for c in clips)


def test_while_credentials_are_rejected_clips_turn_stale_and_are_uploaded_on_time(tmp_path: Path) -> None:
    rig = Rig(tmp_path, stale_after_s=30)
    rig.recognizer.error = ServiceAuthRejected("recognize answered 401", status=401)
    (clip,) = rig.record(1)

    rig.work_due()
    rig.clock.advance(30.01)  # the auth backoff (60 s) is longer than stale_after: the clip must not wait for it
    rig.work_due()

    assert [e.status for e in rig.events_of("recognition")] == [SKIPPED_STALE]
    assert list(rig.uploader.objects) == [clip_key("dev-1", clip)]


def test_throttling_waits_for_the_retry_after(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.recognizer.error = ServiceThrottled("recognize answered 429", status=429, retry_after_s=20)
    rig.record(1)

    rig.work_due()
    (event,) = rig.events_of("throttled")
    assert (event.retry_after_s, event.retry_in_s) == (20, 8.0)  # capped at the backoff's max_s (8 s)
    rig.recognizer.error = None
    rig.clock.advance(7.9)
    assert rig.work_due() == 0
    rig.clock.advance(0.1)
    rig.work_due()
    assert [e.status for e in rig.events_of("recognition")] == [RECOGNISED]


def test_a_503_retry_after_is_honoured_too(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.recognizer.error = error_for_status("recognize", 503, retry_after_s=5)
    rig.record(1)

    rig.work_due()

    (event,) = rig.events_of("failure")
    assert (event.status, event.retry_in_s) == (503, 5.0)  # the backoff alone would be 1 s


def test_the_upload_stage_treats_the_same_errors_the_same_way(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.uploader.error = ServiceAuthRejected("upload answered 403", status=403)
    (clip,) = rig.record(1)

    rig.work_due()
    (event,) = rig.events_of("auth_failed")
    assert (event.stage, event.retry_in_s) == ("upload", AUTH_NO_JITTER.base_s)
    assert rig.spool.load(clip).upload.status == PENDING

    rig.uploader.error = ServiceThrottled("upload answered 429", status=429, retry_after_s=3)
    rig.clock.advance(AUTH_NO_JITTER.base_s)
    rig.work_due()
    assert rig.events_of("throttled")[0].stage == "upload"

    rig.uploader.error = ServiceUnavailable("upload failed: ConnectTimeout")
    rig.clock.advance(8)
    rig.work_due()
    rig.uploader.error = None
    rig.clock.advance(8)
    rig.work_due()
    assert rig.spool.unfinished() == [] and list(rig.uploader.objects) == [clip_key("dev-1", clip)]
    assert len(rig.recognizer.calls) == 1  # recognised once; only the upload was retried


def test_an_upload_refused_for_one_clip_is_retried_later_without_holding_up_the_others(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    refused, fine = rig.record(2)

    class RefuseOne:
        def __init__(self) -> None:
            self.objects: dict[str, bytes] = {}

        def upload(self, path: Path, key: str, metadata: dict[str, str]) -> None:
            if key == clip_key("dev-1", refused):
                raise ServiceRefused("upload answered 400 InvalidArgument", status=400)
            self.objects[key] = path.read_bytes()

    rig.worker.uploader = uploader = RefuseOne()
    rig.work_due()

    assert list(uploader.objects) == [clip_key("dev-1", fine)]
    (event,) = rig.events_of("failure")
    assert event.clip == refused and event.retry_in_s == AUTH_NO_JITTER.base_s
    assert rig.spool.load(refused).upload.status == PENDING and rig.queue.pending() == 1  # kept, to try again
    assert rig.worker.upload_gate.is_open()


def test_the_view_shows_a_rejected_key_until_the_stage_works_again() -> None:
    stats = Stats()
    stats.handle(AuthFailed(stage="recognize", status=401, retry_in_s=60.0, clip="c"))
    stats.handle(Throttled(stage="upload", status=429, retry_in_s=3.0, clip="c"))

    assert [e.name for e in stats.conditions()] == ["auth_failed", "throttled"]
    assert (stats.counters()["auth_failed"], stats.counters()["throttled"]) == (1, 1)
    stats.handle(ClipRecognition(clip="c", status=SKIPPED_STALE))  # not an answer from the service
    assert len(stats.conditions()) == 2
    stats.handle(ClipRecognition(clip="c", status=RECOGNISED))
    stats.handle(ClipUploaded(clip="c", key="k"))
    assert stats.conditions() == []


class HungRecognizer:
    """Every call blocks until `release` is set, then fails as a read timeout would; counts calls in flight."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.in_flight = 0
        self.calls = 0
        self._lock = threading.Lock()

    def recognize(self, frame: bytes, content_type: str = "image/jpeg", clip_key: str = "") -> Recognition:
        with self._lock:
            self.calls += 1
            self.in_flight += 1
        try:
            self.release.wait(30)
            raise ServiceUnavailable("recognize failed: ReadTimeout")
        finally:
            with self._lock:
                self.in_flight -= 1


def _wait_for(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_a_failing_service_is_probed_by_one_worker_while_the_other_uploads_stale_clips(tmp_path: Path) -> None:
    clock = FakeClock()
    spool, uploader, recognizer = Spool(tmp_path), FakeUploader(), HungRecognizer()
    gate = RetryGate(Backoff(base_s=1.0, max_s=1.0, jitter=0.0), clock)
    worker = ClipWorker(spool, recognizer, uploader, lambda event: None, stale_after_s=5, clock=clock,
                        recognize_gate=gate)
    queue = WorkQueue(clock)
    clips = [add_clip(spool, n, clock.now).clip for n in range(4)]
    gate.failed()  # the service has just failed...
    clock.advance(1.0)  # ...and its backoff is over: the next call is a probe
    for clip in clips:
        queue.put(clip)
    pool = WorkerPool(queue, worker.process, threads=2, poll_s=0.01)
    pool.start()
    try:
        assert _wait_for(lambda: recognizer.in_flight == 1)  # one worker is stuck in the probe
        assert not _wait_for(lambda: recognizer.calls > 1, timeout_s=0.3)  # the other does not join it
        clock.advance(5)  # the clips turn stale while the probe hangs
        assert _wait_for(lambda: len(uploader.objects) == 3)  # uploaded by the free worker, on time
        assert recognizer.in_flight == 1
        recognizer.release.set()  # the probe times out; its clip is stale by now too
        assert queue.wait_idle(10)
    finally:
        recognizer.release.set()
        pool.stop()

    assert len(uploader.objects) == 4 and spool.unfinished() == [] and recognizer.calls == 1


def test_the_probe_slot_is_freed_however_the_call_ends() -> None:
    clock = FakeClock()
    gate = RetryGate(Backoff(base_s=1.0, max_s=1.0, jitter=0.0), clock)
    with gate.attempt() as first, gate.attempt() as second:
        assert first is None and second is None  # a healthy service: calls run side by side

    gate.failed()
    clock.advance(1.0)
    try:
        with gate.attempt() as probe:
            assert probe is None
            with gate.attempt() as other:
                assert other == clock.now + 1.0  # look again after a backoff step
            raise ConnectionError("the worker crashed mid-call")
    except ConnectionError:
        pass
    with gate.attempt() as after:
        assert after is None
