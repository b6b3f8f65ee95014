"""A small, fixed set of worker threads that take clips from the work queue and process them."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from pi_app.transport.backoff import Backoff
from pi_app.runtime.work_queue import WorkQueue

log = logging.getLogger(__name__)

Process = Callable[[str], float | None]
# A crash is usually the disk (full, read-only) and clears when it does: retry, less often the longer it lasts.
CRASH_BACKOFF = Backoff(base_s=1.0, max_s=60.0, jitter=0.0)


class WorkerPool:
    """`threads` workers running `process(clip)` on queued clips; a returned time re-queues the clip for then.

    A clip whose processing raises is queued again after `crash_backoff` (growing with its consecutive
    crashes), never dropped: dropping it would leave it unfinished in the spool while the queue reports idle.

    Plain daemon threads rather than concurrent.futures: its workers are joined at interpreter exit, so a
    request stuck in its timeout would hold up shutdown; here the work is already persisted in the spool
    and an abandoned call is simply redone at the next start.
    """

    def __init__(self, queue: WorkQueue, process: Process, threads: int = 2, poll_s: float = 0.2,
                 crash_backoff: Backoff = CRASH_BACKOFF) -> None:
        if threads < 1:
            raise ValueError("a worker pool needs at least one thread")
        self.queue = queue
        self.process = process
        self.poll_s = poll_s
        self.crash_backoff = crash_backoff
        self._crashes: dict[str, int] = {}  # clip → consecutive crashes
        self._crashes_lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._loop, name=f"clip-worker-{n}", daemon=True) for n in range(threads)]

    def start(self) -> None:
        """Start the workers."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the workers to stop after the clip in hand; False if some were still busy after `timeout` seconds."""
        self._stopping.set()
        self.queue.close()
        for thread in self._threads:
            thread.join(timeout / len(self._threads))
        return not any(thread.is_alive() for thread in self._threads)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            clip = self.queue.take(timeout=self.poll_s)
            if clip is None:
                continue
            try:
                self._work(clip)
            finally:
                self.queue.task_done()

    def _work(self, clip: str) -> None:
        try:
            retry_at = self.process(clip)
        except Exception:
            delay = self.crash_backoff.delay(self._count_crash(clip))
            log.exception("clip processing crashed; will retry", extra={"clip": clip, "retry_in_s": delay})
            if not self._stopping.is_set():  # when stopping, the clip waits in the spool for the next start
                self.queue.put_after(clip, delay)
            return
        with self._crashes_lock:
            self._crashes.pop(clip, None)
        if retry_at is not None and not self._stopping.is_set():
            self.queue.put(clip, retry_at)

    def _count_crash(self, clip: str) -> int:
        with self._crashes_lock:
            self._crashes[clip] = self._crashes.get(clip, 0) + 1
            return self._crashes[clip]
