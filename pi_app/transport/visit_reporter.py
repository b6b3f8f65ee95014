"""Report visits to the stack (POST /visits), so `facegate sightings` and the console list them.

Each `visit_decided` / `visit_ended` event becomes the visit's report (the contract's VisitReport) in its file in `<root>/pending/<visit_id>.json`
(one file per visit: a later report replaces an earlier one, as it does at the API) before anything is sent, so a
crash or an outage loses none; a thread sends them oldest first and deletes each once the API has it. A report
the API refuses (4xx, e.g. malformed) is moved to `<root>/rejected/` with the reason, never retried for ever;
anything else (unreachable, 5xx, throttled, a revoked key) is retried with backoff, across restarts.
Under the `visits` upload policy a report names the visit's bundle (`bundle_of`: its key is known before the
bundle is made, so a report may name one not uploaded yet: readers say so).

A visit's reports are API calls: a `visit_decided` report is held back for `hold_s` (its file is written at once all
the same: nothing is lost on a crash, and a restart sends it at once), so a short visit that ends meanwhile sends only
its final report, which replaces it. An ended report goes at once, and so does a held one once a door request names
its visit (confirm mode: the console links the request to the visit) or the reporter closes. The hold runs from the
visit's first unsent report: a visit re-decided again and again still reports every `hold_s`. Each report the API
takes is a `visit_reported` event (`publish`).
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

from facegate_contract.device_events import DeviceEvent, VisitAction, VisitDecided, VisitEnded, VisitReported
from facegate_contract.wire import VisitReport, WireError, decode, encode
from pi_app.transport.backoff import Backoff
from pi_app.recording.durable_files import private_dir, write_atomically
from pi_app.transport.retry_gate import RetryGate
from pi_app.transport.service_errors import ServiceRefused

log = logging.getLogger(__name__)

PENDING, REJECTED = "pending", "rejected"
DEFAULT_HOLD_S = 10.0  # most doorway visits last a few seconds: their decided report is replaced by the ended one
Send = Callable[[VisitReport], Any]


class VisitReporter:
    """An event sink (`handle`) with a sending thread (`start` / `close`)."""

    def __init__(self, root: Path, send: Send, *, backoff: Backoff = Backoff(base_s=1.0, max_s=300.0),
                 clock: Callable[[], float] = time.time,
                 bundle_of: Callable[[str], str | None] = lambda visit_id: None,
                 hold_s: float = DEFAULT_HOLD_S, publish: Callable[[DeviceEvent], None] | None = None) -> None:
        """`bundle_of(visit_id)`: the key of the visit's bundle, None when its clips go up alone; `hold_s`: how long
        a report of a visit not ended yet waits for the final one to replace it (0: sent at once); `publish`: where
        a `visit_reported` event goes for each report the API took (the event log, through an EventRelay)."""
        if hold_s < 0:
            raise ValueError(f"hold_s must be zero or more, got {hold_s}")
        self.root = Path(root)
        (self.root / PENDING).mkdir(parents=True, exist_ok=True)
        (self.root / REJECTED).mkdir(exist_ok=True)
        private_dir(self.root)  # reports name visitors: owner-only
        self._send = send
        self._bundle_of = bundle_of
        self._clock = clock
        self.hold_s = hold_s
        self._publish = publish
        self._held: dict[str, float] = {}  # visit id -> when its held report may go (clock time); under _lock
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
        if isinstance(event, VisitAction) and event.door_request:
            self.release(event.visit_id)  # the door request's page links to the visit: list it now
            return
        if not isinstance(event, (VisitDecided, VisitEnded)):
            return
        report = event.report()
        bundle = self._bundle_of(report.visit_id)
        if bundle is not None:
            report = msgspec.structs.replace(report, bundle=bundle)
        with self._lock:
            write_atomically(self._path(PENDING, report.visit_id), encode(report).decode("utf-8"))
            if report.ended or self.hold_s == 0:
                self._held.pop(report.visit_id, None)
            else:  # from the first unsent report on: a later one replaces it but does not push the hold back
                self._held.setdefault(report.visit_id, self._clock() + self.hold_s)
        self._notify()

    def release(self, visit_id: str | None = None) -> None:
        """Send the held report of `visit_id` (of every visit: None) at once."""
        with self._lock:
            if visit_id is None:
                self._held.clear()
            elif self._held.pop(visit_id, None) is None:
                return
        self._notify()

    def _notify(self) -> None:
        with self._wake:
            self._dirty = True
            self._wake.notify()

    def pending(self) -> list[Path]:
        """Report files waiting to be sent, oldest visit first (visit ids sort by start time)."""
        return sorted((self.root / PENDING).glob("*.json"))

    def send_due(self) -> float | None:
        """One round: send what may be sent now; returns when to try again (None: nothing left)."""
        next_due: float | None = None  # the earliest held report's time
        for path in self.pending():
            with self._lock:
                held_until = self._held.get(path.stem)
            if held_until is not None and held_until > self._clock():
                next_due = held_until if next_due is None else min(next_due, held_until)
                continue
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
                    return retry_at if next_due is None else min(retry_at, next_due)
                self.gate.succeeded()
            self._delivered(path, text, report)
        return next_due

    def _delivered(self, path: Path, text: str, report: VisitReport) -> None:
        with self._lock:
            try:
                if path.read_text(encoding="utf-8") == text:  # unchanged: a newer report would be sent next round
                    path.unlink()
                    self.sent += 1
                    self._held.pop(report.visit_id, None)
                elif report.visit_id in self._held:  # a newer report, not ended, came meanwhile: its own hold
                    self._held[report.visit_id] = self._clock() + self.hold_s
            except FileNotFoundError:
                pass
        if self._publish is not None:
            self._publish(VisitReported(visit_id=report.visit_id, decision=report.decision, ended=report.ended))

    def _reject(self, path: Path, reason: str) -> None:
        with self._lock:
            text = path.read_text(encoding="utf-8")
            try:
                record = {"report": json.loads(text), "rejected": reason}
            except ValueError:
                record = {"report": text, "rejected": reason}
            write_atomically(self._path(REJECTED, path.stem), json.dumps(record))
            path.unlink(missing_ok=True)
            self._held.pop(path.stem, None)
        log.error("visit report refused by the API; kept in rejected/", extra={"report": path.stem, "reason": reason})

    def start(self) -> VisitReporter:
        """Send in the background: reports left by the last run, then each new one; returns self."""
        self._thread = threading.Thread(target=self._loop, name="visit-reporter", daemon=True)
        self._thread.start()
        return self

    def close(self, flush_timeout_s: float = 5.0) -> None:
        """Give pending reports up to `flush_timeout_s` to go, then stop (the rest go at the next start).

        The sender keeps retrying meanwhile: one throttled or timed-out report must not make a shutdown drop the
        rest to the next start. Held reports go now: nothing more will replace them in this run."""
        self.release()
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
                if self._dirty:
                    continue  # a report (or a release) came in during the round: its wake-up was not waited for
                self._wake.wait(None if retry_at is None else max(0.05, retry_at - self._clock()))
                if self._stopping:
                    return

    def _path(self, folder: str, visit_id: str) -> Path:
        return self.root / folder / f"{visit_id}.json"
