"""Report visits to the stack (POST /visits), so `facegate sightings` and the console list them.

Each `visit_decided` / `visit_ended` event becomes the visit's report (the contract's VisitReport) in its file in `<root>/pending/<visit_id>.json`
(one file per visit: a later report replaces an earlier one, as it does at the API) before anything is sent, so a
crash or an outage loses none; a thread sends them oldest first and deletes each once the API has it. A report
the API refuses (4xx, e.g. malformed) is moved to `<root>/rejected/` with the reason, never retried for ever;
anything else (unreachable, 5xx, throttled, a revoked key) is retried with backoff, across restarts.
Under the `visits` upload policy a report names the visit's bundle (`bundle_of`: its key is known before the
bundle is made, so a report may name one not uploaded yet: readers say so).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from facegate_contract.device_events import DeviceEvent, VisitDecided, VisitEnded
from facegate_contract.wire import VisitReport, WireError, decode, encode
from pi_app.transport.backoff import Backoff
from pi_app.recording.durable_files import private_dir, write_atomically
from pi_app.transport.retry_gate import RetryGate
from pi_app.transport.service_errors import ServiceRefused

log = logging.getLogger(__name__)

PENDING, REJECTED = "pending", "rejected"
Send = Callable[[VisitReport], Any]


class VisitReporter:
    """An event sink (`handle`) with a sending thread (`start` / `close`)."""

    def __init__(self, root: Path, send: Send, *, backoff: Backoff = Backoff(base_s=1.0, max_s=300.0),
                 clock: Callable[[], float] = time.time,
                 bundle_of: Callable[[str], str | None] = lambda visit_id: None) -> None:
        """`bundle_of(visit_id)`: the key of the visit's bundle, None when its clips go up alone."""
        self.root = Path(root)
        (self.root / PENDING).mkdir(parents=True, exist_ok=True)
        (self.root / REJECTED).mkdir(exist_ok=True)
        private_dir(self.root)  # reports name visitors: owner-only
        self._send = send
        self._bundle_of = bundle_of
        self._clock = clock
        self.gate = RetryGate(backoff, clock)
        self.sent = 0
        self._lock = threading.Lock()  # a report file is written and deleted under it
        self._wake = threading.Condition()
        self._stopping = False
        self._dirty = False  # a report arrived since the sender's round began: run another before waiting
        self._thread: threading.Thread | None = None

    def handle(self, event: DeviceEvent) -> None:
        """Keep the visit's latest report on disk and wake the sender (on the bus: one small file write).

        Raises ValueError for a visit the API would refuse (the bus logs and counts it)."""
        if not isinstance(event, (VisitDecided, VisitEnded)):
            return
        report = event.report()
        bundle = self._bundle_of(report.visit_id)
        if bundle is not None:
            report = msgspec.structs.replace(report, bundle=bundle)
        with self._lock:
            write_atomically(self._path(PENDING, report.visit_id), encode(report).decode("utf-8"))
        with self._wake:
            self._dirty = True
            self._wake.notify()

    def pending(self) -> list[Path]:
        """Report files waiting to be sent, oldest visit first (visit ids sort by start time)."""
        return sorted((self.root / PENDING).glob("*.json"))

    def send_due(self) -> float | None:
        """One round: send what may be sent now; returns when to try again (None: nothing left)."""
        for path in self.pending():
            with self.gate.attempt() as wait_until:
                if wait_until is not None:
                    return wait_until
                try:
                    text = path.read_text(encoding="utf-8")
                    report = decode(text, VisitReport)
                except FileNotFoundError:
                    continue
                except WireError as exc:  # a file mangled on disk: the API would refuse it too
                    self._reject(path, str(exc))
                    continue
                try:
                    self._send(report)
                except ServiceRefused as exc:
                    self.gate.succeeded()  # the API is up; it refuses this report
                    self._reject(path, str(exc))
                    continue
                except Exception as exc:  # noqa: BLE001 - unavailable, throttled, auth: all retried later
                    retry_at = self.gate.failed(retry_after_s=getattr(exc, "retry_after_s", None))
                    log.warning("visit report not sent; will retry", extra={"report": path.stem,
                                "error": f"{exc.__class__.__name__}: {exc}"[:200], "retry_in_s": round(retry_at - self._clock(), 1)})
                    return retry_at
                self.gate.succeeded()
            self._delivered(path, text)
        return None

    def _delivered(self, path: Path, text: str) -> None:
        with self._lock:
            try:
                if path.read_text(encoding="utf-8") == text:  # unchanged: a newer report would be sent next round
                    path.unlink()
                    self.sent += 1
            except FileNotFoundError:
                pass

    def _reject(self, path: Path, reason: str) -> None:
        with self._lock:
            text = path.read_text(encoding="utf-8")
            try:
                record = {"report": json.loads(text), "rejected": reason}
            except ValueError:
                record = {"report": text, "rejected": reason}
            write_atomically(self._path(REJECTED, path.stem), json.dumps(record))
            path.unlink(missing_ok=True)
        log.error("visit report refused by the API; kept in rejected/", extra={"report": path.stem, "reason": reason})

    def start(self) -> VisitReporter:
        """Send in the background: reports left by the last run, then each new one; returns self."""
        self._thread = threading.Thread(target=self._loop, name="visit-reporter", daemon=True)
        self._thread.start()
        return self

    def close(self, flush_timeout_s: float = 5.0) -> None:
        """Give pending reports up to `flush_timeout_s` to go, then stop (the rest go at the next start).

        The sender keeps retrying meanwhile: one throttled or timed-out report must not make a shutdown drop the
        rest to the next start."""
        deadline = time.monotonic() + flush_timeout_s
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(flush_timeout_s + 5.0)

    def _loop(self) -> None:
        while True:
            with self._wake:
                self._dirty = False
            try:
                retry_at = self.send_due()
            except Exception:  # e.g. the disk is full: keep the thread, try again soon
                log.exception("visit report round failed")
                retry_at = self._clock() + 5.0
            with self._wake:
                if self._stopping:
                    return
                if self._dirty and retry_at is None:
                    continue  # a report came in during the round: its wake-up was not waited for
                self._wake.wait(None if retry_at is None else max(0.05, retry_at - self._clock()))
                if self._stopping:
                    return

    def _path(self, folder: str, visit_id: str) -> Path:
        return self.root / folder / f"{visit_id}.json"
