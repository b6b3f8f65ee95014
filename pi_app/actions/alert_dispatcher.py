"""Delivers the outbox's alerts to the webhook, oldest first, on one background thread.

Rules: 2xx = delivered (deleted); connection errors, timeouts, 408, 429 and 5xx = try again after a
backoff with jitter (one gate for the receiver: while it is down, one probe per backoff period, not one
request per alert), and never before the Retry-After of a 429 / 503 (capped at the webhook's backoff
`max_s`, so a receiver cannot park alerts for a day); any other answer = give up (moved to dead/ with the
reason). An alert not delivered `give_up_after_s` after it was made is given up on as expired. Delivery is
at least once: a crash between the receiver's answer and the delete resends it with the same `alert_id`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from pi_app.actions.alert import Alert
from pi_app.actions.alert_outbox import AlertOutbox
from pi_app.actions.alert_payload import AlertPayloads
from pi_app.actions.config import Webhook
from pi_app.actions.webhook import DELIVERED, GIVE_UP, SendResult
from pi_app.transport.retry_gate import RetryGate

log = logging.getLogger(__name__)

CRASH_PAUSE_S = 5.0  # after an unexpected error in a delivery round, before the next


class AlertSender(Protocol):
    """What the dispatcher needs of pi_app.actions.webhook.WebhookSender."""

    origin: str

    def send(self, payload: dict) -> SendResult:
        """One delivery attempt."""
        ...


class AlertDispatcher:
    """Sends pending alerts; `deliver_due()` is one round (tests call it directly), `start()` runs rounds on a thread."""

    def __init__(self, outbox: AlertOutbox, sender: AlertSender, payloads: AlertPayloads, webhook: Webhook, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.outbox, self.sender, self.payloads = outbox, sender, payloads
        self.webhook = webhook  # expiry, timeout and backoff
        self.clock = clock
        self.gate = RetryGate(webhook.backoff, clock)
        self.delivered = 0
        self._wake = threading.Condition()
        self._woken = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def submit(self, alert: Alert) -> None:
        """Store `alert` in the outbox (durable from here on) and wake the sender."""
        self.outbox.put(alert)
        with self._wake:
            self._woken = True
            self._wake.notify()

    def deliver_due(self) -> float | None:
        """Try every pending alert that may be tried now; returns the clock time to try again, None if none is left."""
        for alert in self.outbox.pending():
            if self.clock() - alert.created_at > self.webhook.give_up_after_s:
                self._give_up(alert, f"expired after {self.webhook.give_up_after_s:g} s; last error: {alert.last_error}")
                continue
            if not self.gate.is_open():
                return self.gate.reopens_at
            result = self.sender.send(self.payloads.build(alert))
            if result.outcome == DELIVERED:
                self.gate.succeeded()
                self.outbox.delivered(alert)
                self.delivered += 1
                log.info("alert delivered", extra={"alert_id": alert.id, "rule": alert.rule, "webhook": self.sender.origin,
                                                   "status": result.status, "attempt": alert.attempts + 1,
                                                   "latency_ms": result.latency_ms})
            elif result.outcome == GIVE_UP:
                self.gate.succeeded()  # the receiver is up; it refuses this alert
                alert.attempts += 1
                self._give_up(alert, result.error)
            else:
                alert.attempts, alert.last_error = alert.attempts + 1, result.error or f"HTTP {result.status}"
                self.outbox.put(alert)
                retry_at = self.gate.failed(retry_after_s=result.retry_after_s)
                log.warning("alert delivery failed; will retry",
                            extra={"alert_id": alert.id, "webhook": self.sender.origin, "attempt": alert.attempts,
                                   "error": alert.last_error, "retry_after_s": result.retry_after_s,
                                   "retry_in_s": round(retry_at - self.clock(), 2)})
                return retry_at
        return None

    def start(self) -> None:
        """Deliver in the background: now (alerts left by the last run), at every submit and when retries fall due."""
        self._thread = threading.Thread(target=self._loop, name="alert-dispatcher", daemon=True)
        self._thread.start()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until the outbox has nothing pending; False as soon as that cannot happen within `timeout_s`
        (time is up, or the receiver is failing and the next try comes later)."""
        deadline = time.monotonic() + timeout_s
        while self.outbox.pending():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.gate.reopens_at > self.clock() + remaining:
                return False
            time.sleep(0.02)
        return True

    def stop(self, flush_timeout_s: float = 5.0) -> None:
        """Give pending alerts up to `flush_timeout_s` to go out, then stop; the rest stay in the outbox."""
        if self._thread is None:
            return
        self.wait_idle(flush_timeout_s)
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(self.webhook.timeout_s + 5.0)  # a send in flight ends within its timeout

    def _loop(self) -> None:
        while True:
            try:
                retry_at = self.deliver_due()
            except Exception:  # e.g. the outbox disk is full: keep the thread, try again soon
                log.exception("alert delivery round crashed")
                retry_at = self.clock() + CRASH_PAUSE_S
            with self._wake:
                if not self._woken and not self._stopping:
                    self._wake.wait(None if retry_at is None else max(0.0, retry_at - self.clock()))
                self._woken = False
                if self._stopping:
                    return

    def _give_up(self, alert: Alert, reason: str) -> None:
        self.outbox.give_up(alert, reason)
        log.error("alert given up", extra={"alert_id": alert.id, "rule": alert.rule, "webhook": self.sender.origin,
                                           "attempts": alert.attempts, "reason": reason})
