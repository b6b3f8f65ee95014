"""The action layer of one device, wired and with a lifetime: GPIO outputs, the rules sink, the alert
outbox and its dispatcher.

    with DeviceActions(config, device_id="door-1", outbox_dir=Path("alerts"), clip_links=connection.clip_links) as actions:
        DeviceApp(device_config, camera, recognizer, uploader, sinks=[actions.sink]).run()

`actions.sink` keeps the visits (pi_app.visits) from the `recognition` events it gets: put it on the bus
and feed its tracker (`actions.visits`, or the one passed in) from nowhere else.
The pins are driven by a pin owner process (supervised_outputs, pin_owner) that ends every pulse on its
own clock and turns every output off as soon as the app dies, however it dies; a test that injects `gpio`
drives them in-process instead.
Closing ends the visits still open, ends every running pulse (pins off), gives pending alerts a moment
to go out and stops the threads; undelivered alerts stay in the outbox and are sent by the next start.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pi_app.actions.action_sink import ActionSink
from pi_app.actions.alert_dispatcher import AlertDispatcher, AlertSender
from pi_app.actions.alert_outbox import AlertOutbox
from pi_app.actions.alert_payload import AlertPayloads
from pi_app.actions.clip_links import ClipLinks
from pi_app.actions.clip_uploads import ClipUploads
from pi_app.actions.config import ActionsConfig
from pi_app.actions.door_confirm import DEFAULT_POLL_S, DoorConfirmer, DoorRequestApi
from pi_app.actions.gpio_outputs import GpioOutputs
from pi_app.actions.scheduler import Scheduler, ThreadScheduler
from pi_app.actions.supervised_outputs import SupervisedOutputs
from pi_app.actions.webhook import WebhookSender
from pi_app.runtime.events import Event
from pi_app.visits.tracker import VisitTracker

log = logging.getLogger(__name__)


class DeviceActions:
    """Everything `facegate run --actions` adds to the device app. Inject `gpio`, `scheduler`, `sender`, `clock`
    to test it without a Pi, without waiting and without a network (`gpio` drives the pins in this process)."""

    def __init__(self, config: ActionsConfig, *, device_id: str, outbox_dir: Path,
                 clip_links: ClipLinks | None = None, gpio: Any = None, scheduler: Scheduler | None = None,
                 sender: AlertSender | None = None, clock: Callable[[], float] = time.time,
                 visits: VisitTracker | None = None, publish: Callable[[Event], None] | None = None,
                 door_requests: DoorRequestApi | None = None, door_poll_s: float = DEFAULT_POLL_S) -> None:
        self.config = config
        self._own_scheduler: ThreadScheduler | None = None
        self.outputs: GpioOutputs | SupervisedOutputs
        if gpio is None:
            self.outputs = SupervisedOutputs(config.outputs, config.gpio_backend)
        else:
            if scheduler is None:
                scheduler = self._own_scheduler = ThreadScheduler()
            self.outputs = GpioOutputs(gpio, config.outputs, scheduler)
        uploads = ClipUploads()
        self.outbox: AlertOutbox | None = None
        self.dispatcher: AlertDispatcher | None = None
        self._own_sender: WebhookSender | None = None
        if config.webhook is not None:
            self.outbox = AlertOutbox(outbox_dir)
            if sender is None:
                hook = config.webhook
                sender = self._own_sender = WebhookSender(hook.url, hook.headers, hook.timeout_s)
            payloads = AlertPayloads(clip_links, config.webhook.clip_url_expiry_s, uploads, config.webhook.console_url)
            self.dispatcher = AlertDispatcher(self.outbox, sender, payloads, config.webhook, clock=clock)
        # Confirm mode: the relay opens on an operator's approval, read from the API (no API: it never opens).
        outputs = self.outputs
        self.confirmer = (DoorConfirmer(door_requests, lambda pulse: outputs.pulse(pulse.output, pulse.seconds),
                                        publish=publish, poll_s=door_poll_s)
                          if door_requests is not None else None)
        self.sink = ActionSink(config, self.outputs, device_id, uploads=uploads, clock=clock,
                               submit_alert=self.dispatcher.submit if self.dispatcher else None,
                               visits=visits, publish=publish, confirmer=self.confirmer)
        self.visits = self.sink.visits

    def start(self) -> DeviceActions:
        """Claim the pins (all off; the pin owner started) and start the timer and delivery threads; returns self."""
        self.outputs.open()
        if self._own_scheduler is not None:
            self._own_scheduler.start()
        if self.dispatcher is not None:
            self.dispatcher.start()
        log.info("device actions started", extra={
            "outputs": {o.name: o.pin for o in self.config.outputs.values()},
            "webhook": self.dispatcher.sender.origin if self.dispatcher else None,
            "pending_alerts": len(self.outbox.pending()) if self.outbox else 0})
        return self

    def close(self, flush_timeout_s: float = 5.0) -> None:
        """Open visits ended, pins off, pending alerts given up to `flush_timeout_s`, threads stopped."""
        try:
            try:
                if self.confirmer is not None:
                    self.confirmer.close()  # before the pins close: a late approval must find nothing to open
                self.sink.close()
            finally:
                self.outputs.close()  # pins off whatever happened above
        finally:
            if self._own_scheduler is not None:
                self._own_scheduler.close()
            if self.dispatcher is not None:
                self.dispatcher.stop(flush_timeout_s)
            if self._own_sender is not None:
                self._own_sender.close()

    def __enter__(self) -> DeviceActions:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
