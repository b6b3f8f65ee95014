"""The work queue hands out the newest due clip first and holds retries until their time."""
from __future__ import annotations

import threading

import pytest

from pi_app.transport.backoff import Backoff
from pi_app.runtime.work_queue import WorkQueue
from pi_app.runtime.worker_pool import WorkerPool
from tests.unit.pi_support import FakeClock


def test_newest_clip_first() -> None:
    queue = WorkQueue(FakeClock())
    for clip in ("20260101T000000.000Z-000001", "20260101T000001.000Z-000003", "20260101T000000.500Z-000002"):
        queue.put(clip)

    assert [queue.take(), queue.take(), queue.take(), queue.take()] == [
        "20260101T000001.000Z-000003", "20260101T000000.500Z-000002", "20260101T000000.000Z-000001", None]


def test_a_retry_waits_for_its_time() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock)
    queue.put("b-retry", due_at=clock.now + 5)
    queue.put("a-new")

    assert queue.take() == "a-new"
    assert queue.take() is None
    clock.advance(5)
    assert queue.take() == "b-retry"


def test_a_clip_is_queued_once() -> None:
    queue = WorkQueue(FakeClock())
    queue.put("a")
    queue.put("a")

    assert queue.take() == "a" and queue.take() is None


def test_idle_only_when_nothing_is_queued_or_in_flight() -> None:
    queue = WorkQueue(FakeClock())
    queue.put("a")
    assert not queue.wait_idle(0)
    clip = queue.take()
    assert clip == "a" and queue.pending() == 1 and not queue.wait_idle(0)  # in flight
    queue.task_done()
    assert queue.pending() == 0 and queue.wait_idle(0)


def _take_in_background(queue: WorkQueue, then) -> list[str | None]:
    """Start a `take` that waits, run `then`, and return what the take got."""
    taken: list[str | None] = []
    taker = threading.Thread(target=lambda: taken.append(queue.take(timeout=30)))
    taker.start()
    then()
    taker.join(timeout=30)
    return taken


def test_a_waiting_take_wakes_when_a_clip_arrives() -> None:
    queue = WorkQueue(FakeClock())

    assert _take_in_background(queue, lambda: queue.put("a")) == ["a"]


def test_close_wakes_waiting_takers_with_nothing() -> None:
    queue = WorkQueue(FakeClock())

    assert _take_in_background(queue, queue.close) == [None]


@pytest.mark.parametrize("failures, expected", [(0, 0.0), (1, 1.0), (2, 2.0), (3, 4.0), (10, 60.0)])
def test_backoff_doubles_up_to_its_cap(failures: int, expected: float) -> None:
    assert Backoff(base_s=1.0, max_s=60.0, jitter=0.5).delay(failures, rng=lambda: 0.0) == expected


def test_backoff_jitter_only_shortens_the_delay() -> None:
    backoff = Backoff(base_s=1.0, max_s=60.0, jitter=0.5)

    assert backoff.delay(3, rng=lambda: 1.0) == 2.0  # half of 4 s at most jitter
    assert backoff.delay(3, rng=lambda: 0.5) == 3.0


def test_a_clip_whose_processing_crashes_is_tried_again_not_dropped() -> None:
    queue = WorkQueue()
    calls: list[str] = []

    def process(clip: str) -> None:
        calls.append(clip)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")  # e.g. its state could not be saved

    pool = WorkerPool(queue, process, threads=1, poll_s=0.01, crash_backoff=Backoff(base_s=0.3, max_s=1.0, jitter=0.0))
    queue.put("a")
    pool.start()
    try:
        assert not queue.wait_idle(0.15)  # waiting out its crash backoff: not idle, not dropped
        assert queue.wait_idle(10)
    finally:
        pool.stop()

    assert calls == ["a", "a"]
