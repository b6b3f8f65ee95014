"""The event sink that acts: every `recognition` event goes through the rules, and each new visit pulses
its outputs and files its alert; `upload` events mark clips whose link already works.

It runs on the event bus (lock held, worker threads): pin writes and one small atomic file write per
alert are quick; the network is left to the alert dispatcher's thread.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pi_app.actions.alert import Alert, new_alert_id
from pi_app.actions.clip_uploads import ClipUploads
from pi_app.actions.config import ActionsConfig
from pi_app.actions.gpio_outputs import GpioOutputs
from pi_app.actions.rules import Sighting, plan_visit, sightings
from pi_app.actions.visits import VisitTracker
from pi_app.events import Event

log = logging.getLogger(__name__)

SubmitAlert = Callable[[Alert], None]


class ActionSink:
    """Turns recognitions into pulses and alerts, once per visit."""

    def __init__(self, config: ActionsConfig, outputs: GpioOutputs, device_id: str, *,
                 submit_alert: SubmitAlert | None = None, uploads: ClipUploads | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.outputs = outputs
        self.device_id = device_id
        self.submit_alert = submit_alert
        self.uploads = uploads if uploads is not None else ClipUploads()
        self.clock = clock
        self.visits = VisitTracker()

    def handle(self, event: Event) -> None:
        """Act on one device event."""
        kind = event.get("event")
        if kind == "upload" and event.get("key"):
            self.uploads.add(str(event["key"]))
        elif kind == "recognition":
            for sighting in sightings(event):
                self._act(event, sighting)

    def _act(self, event: Event, sighting: Sighting) -> None:
        rule = self.config.rules[sighting.rule]
        if rule.does_nothing:
            return
        now = self.clock()
        seen_at = float(event.get("recorded_at") or now)
        if not self.visits.starts_visit(sighting.subject, seen_at, rule.cooldown_s):
            return
        age_s = now - seen_at
        plan = plan_visit(rule, sighting, fresh=age_s <= rule.max_age_s)
        for pulse in plan.pulses:
            self.outputs.pulse(pulse.output, pulse.seconds)
        alert_id = self._alert(event, sighting, seen_at, now) if plan.alert else None
        log.info("visit", extra={"rule": rule.name, "subject": sighting.subject, "clip": event.get("clip"),
                                 "age_s": round(age_s, 2), "pulses": [p.output for p in plan.pulses],
                                 "door": plan.opens_door, "alert_id": alert_id})

    def _alert(self, event: Event, sighting: Sighting, seen_at: float, now: float) -> str | None:
        if self.submit_alert is None:
            return None
        alert = Alert(id=new_alert_id(now), rule=sighting.rule, name=sighting.subject, confidence=sighting.confidence,
                      device_id=self.device_id, seen_at=seen_at, created_at=now, clip=str(event.get("clip", "")),
                      clip_key=str(event.get("key", "")), details=dict(sighting.details))
        try:
            self.submit_alert(alert)
        except OSError:  # disk full or read-only: the pins still worked; never break the event bus
            log.exception("alert could not be stored", extra={"alert_id": alert.id})
            return None
        return alert.id
