"""Confirm mode: the door opens only on an operator's approval. When the door rule would open, the device files a
door request through the API and polls it (the Pi has no inbound port); the relay is pulsed once, only when the
request reads `approved` before the device's own deadline. A denial, an expiry, the deadline, shutting down, or an
API that cannot be used never opens it: on doubt the door stays shut.

Each request waits on its own thread, so the event bus is never held by the network.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from facegate_contract.device_events import DeviceEvent, VisitAction
from facegate_contract.wire import APPROVED, DENIED, EXPIRED, DoorRequest, DoorRequestState
from pi_app.actions.config import Pulse
from pi_app.runtime.stamped_ids import stamped_id

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 1.0  # an operator's tap reaches the door within about a second
OPENED, DENIED_OUTCOME, EXPIRED_OUTCOME, TIMEOUT, API_ERROR, STOPPED = (
    "approved", "denied", "expired", "timeout", "api_error", "stopped")


class DoorRequestApi(Protocol):
    """Files door requests and reads their state (pi_app.transport.door_request_client.ApiDoorRequests)."""

    def file(self, request: DoorRequest) -> DoorRequestState:
        """File a request (again: its state)."""
        ...

    def state(self, request_id: str) -> DoorRequestState:
        """One request's state."""
        ...


class DoorConfirmer:
    """Asks for the door and opens it on approval. `open_door` pulses the relay; `publish` gets the outcome as a
    `visit_action` event (rule `door_request`)."""

    def __init__(self, api: DoorRequestApi, open_door: Callable[[Pulse], None], *,
                 publish: Callable[[DeviceEvent], None] | None = None, poll_s: float = DEFAULT_POLL_S,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time) -> None:
        self.api = api
        self.open_door = open_door
        self.publish = publish
        self.poll_s = poll_s
        self.clock = clock
        self.wall_clock = wall_clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def ask(self, visit_id: str, name: str, clip_key: str, pulse: Pulse, timeout_s: float) -> str:
        """File a door request for `name` in this visit and wait for it in the background; returns its id."""
        request_id = stamped_id(self.wall_clock())
        deadline = self.clock() + timeout_s  # the device's own: an approval read after it never opens
        thread = threading.Thread(target=self._wait, name=f"door-request-{request_id[-8:]}", daemon=True,
                                  args=(request_id, visit_id, name, clip_key, pulse, timeout_s, deadline))
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return request_id

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop waiting: requests still pending never open the door."""
        self._stop.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout_s)

    def _wait(self, request_id: str, visit_id: str, name: str, clip_key: str, pulse: Pulse, timeout_s: float,
              deadline: float) -> None:
        try:
            request = DoorRequest(request_id=request_id, visit_id=visit_id, name=name, clip_key=clip_key or None,
                                  expires_in=max(1, math.ceil(timeout_s)))
            state = self.api.file(request)
        except Exception as exc:  # noqa: BLE001 - unreachable, refused, a bad answer: the door stays shut
            self._outcome(request_id, visit_id, name, API_ERROR, error=f"{exc.__class__.__name__}: {exc}"[:200])
            return
        # The API holds the request open `expires_in` from when it got it, which is before its answer came back: wait
        # that long from the answer, so the device never gives up on a request an operator may still approve (the
        # record would say approved while the door stayed shut).
        deadline = max(deadline, self.clock() + request.expires_in)
        log.info("door request filed; waiting for an operator", extra={"request_id": request_id,
                                                                      "visit_id": visit_id, "timeout_s": timeout_s})
        outcome = self._poll(request_id, state, deadline)
        if outcome == OPENED and self._stop.is_set():
            outcome = STOPPED  # closed while the answer was on its way: the pins are going off
        if outcome == OPENED:
            self.open_door(pulse)
        self._outcome(request_id, visit_id, name, outcome)

    def _poll(self, request_id: str, state: DoorRequestState, deadline: float) -> str:
        """Poll until the request is decided, expires or the deadline passes; returns the outcome."""
        while True:
            if self._stop.is_set():
                return STOPPED
            if state.status == APPROVED:
                return OPENED if self.clock() < deadline else TIMEOUT
            if state.status == DENIED:
                return DENIED_OUTCOME
            if state.status == EXPIRED:
                return EXPIRED_OUTCOME
            remaining = deadline - self.clock()
            if remaining <= 0:
                return TIMEOUT
            if self._stop.wait(min(self.poll_s, remaining)):
                return STOPPED
            try:
                state = self.api.state(request_id)
            except Exception as exc:  # noqa: BLE001 - a failed poll is no answer: keep asking until the deadline
                log.warning("door request status unreadable", extra={"request_id": request_id,
                                                                     "error": f"{exc.__class__.__name__}"})

    def _outcome(self, request_id: str, visit_id: str, name: str, outcome: str, error: str = "") -> None:
        opened = outcome == OPENED
        log.info("door request " + ("approved: door opened" if opened else "ended: door stays shut"),
                 extra={"request_id": request_id, "visit_id": visit_id, "outcome": outcome, "error": error})
        if self.publish is not None:
            self.publish(VisitAction(visit_id=visit_id, rule="door_request", decision=name, door=opened,
                                     door_reason=outcome, door_request=request_id))
