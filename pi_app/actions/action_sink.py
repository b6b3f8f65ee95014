"""The event sink that acts: `recognition` events build visits (pi_app.visits); each visit's rule fires once,
when the visit is first decided as a known person or a stranger; the door opens at most once per visit,
when the door rule says so; a clip without a face fires the no_face rule (with its cool-down); `upload`
events mark clips whose link already works.

It runs on the event bus (lock held, worker threads): pin writes and one small atomic file write per
alert are quick; the network is left to the alert dispatcher's thread.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from facegate_contract.device_events import ClipRecognition, ClipUploaded, DeviceEvent, VisitAction
from facegate_contract.wire import to_builtins
from pi_app.actions.alert import Alert, new_alert_id
from pi_app.actions.clip_uploads import ClipUploads
from pi_app.actions.config import CONFIRM, NO_FACE, ActionsConfig, Rule
from pi_app.actions.cooldowns import Cooldowns
from pi_app.actions.door_confirm import DoorConfirmer
from pi_app.actions.door_rule import NOT_ALLOWED, door_verdict, refused_entry
from pi_app.actions.gpio_outputs import Pulses
from pi_app.actions.rules import Plan, plan, rule_for
from pi_app.recording.clip_state import NO_FACE as STATUS_NO_FACE
from pi_app.visits.decision import window
from pi_app.visits.evidence import Vote
from pi_app.visits.tracker import ENDED, VisitChange, VisitTracker, VisitView
from pi_app.visits.visit_sink import VisitSink

log = logging.getLogger(__name__)

SubmitAlert = Callable[[Alert], None]
Publish = Callable[[DeviceEvent], None]
REMEMBERED_VISITS = 256  # what recent visits did: a late answer to an ended visit must not fire it again


@dataclass
class _Acted:
    """What one visit has done so far."""

    rules: set[str] = field(default_factory=set)
    door_opened: bool = False
    conflict_reported: bool = False


class ActionSink:
    """Turns visits into pulses and alerts. Pass `visits` to share the tracker (e.g. with the motion gate) and
    `publish` to get the visit events and `visit_action` events (through an EventRelay onto the bus). In confirm
    mode the door rule files a door request through `confirmer` instead of opening (none: the door stays shut)."""

    def __init__(self, config: ActionsConfig, outputs: Pulses, device_id: str, *,
                 submit_alert: SubmitAlert | None = None, uploads: ClipUploads | None = None,
                 clock: Callable[[], float] = time.time, visits: VisitTracker | None = None,
                 publish: Publish | None = None, confirmer: DoorConfirmer | None = None) -> None:
        self.config = config
        self.outputs = outputs
        self.device_id = device_id
        self.submit_alert = submit_alert
        self.uploads = uploads if uploads is not None else ClipUploads()
        # Keys alerts and door requests link to: the worker uploads those alone at once whatever the upload policy.
        self.alerted = ClipUploads()
        self.clock = clock
        self.publish = publish
        self.confirmer = confirmer
        self.visits = visits if visits is not None else VisitTracker(config.visits)
        self.visit_sink = VisitSink(self.visits, [self.on_visit], publish)
        self.cooldowns = Cooldowns()
        self._acted: OrderedDict[str, _Acted] = OrderedDict()

    def handle(self, event: DeviceEvent) -> None:
        """Act on one device event."""
        if isinstance(event, ClipUploaded) and event.key:
            self.uploads.add(event.key)
        elif isinstance(event, ClipRecognition) and event.status == STATUS_NO_FACE:
            self._no_face(event)
        self.visit_sink.handle(event)  # visits take `recognition` and `clip_recorded`, and ignore the rest

    def close(self) -> None:
        """End the visits still open (their `visit_ended` events go out; nothing more fires for them)."""
        self.visit_sink.close()

    def on_visit(self, change: VisitChange) -> None:
        """Act on one visit change: the rule's first firing, the door, a conflict."""
        visit, acted = change.visit, self._acted_on(change.visit.id)
        if change.kind == ENDED or not visit.settled:
            return  # a clip inside the visit is still unanswered (another worker, a retry): it could change it
        decision = visit.decision
        if decision.conflict and not acted.conflict_reported:
            acted.conflict_reported = True
            log.warning("visit conflict: nothing opens", extra={"visit_id": visit.id, "decision": decision.name,
                                                                "names": list(decision.conflict)})
            self._report(VisitAction(visit_id=visit.id, rule="conflict", decision=decision.name,
                                     names=list(decision.conflict)))
        rule_name = rule_for(decision)
        if rule_name is None:
            return
        rule = self.config.rules[rule_name]
        now = self.clock()
        best = _best_vote(visit, decision.name)
        latest = window(visit.votes, self.config.visits.decision)
        newest = ([v for v in latest if not v.tracked_from] or latest)[-1]  # a tracked clip is never fresh evidence
        first = rule_name not in acted.rules
        if first:
            acted.rules.add(rule_name)
            first = not rule.does_nothing and self.cooldowns.allows(decision.name, newest.at, rule.cooldown_s)
        door = door_verdict(rule, visit, self.config.visits.decision, now)
        opens = door.opens and not acted.door_opened
        if not first and not opens:
            return
        acted.door_opened = acted.door_opened or opens  # in confirm mode: asked, at most once per visit
        fresh = now - newest.at <= rule.max_age_s
        confirm = opens and rule.door_mode == CONFIRM
        self._carry_out(plan(rule, signals=first and fresh, alert=first, opens_door=opens and not confirm), rule,
                        visit, best, now, door_reason=door.reason)
        if confirm:
            self._ask_door(rule, visit, best, now)

    def done_with(self, visit: VisitView) -> bool:
        """True when more clips of the same face cannot make `visit` do anything more: its rule has fired and it
        has no door, or the door opened (or was asked for), or the person may not enter (their record says so,
        door-grade clips or not: pi_app.actions.door_rule.refused_entry). A door not yet opened for a person who may
        enter, because too few door-grade clips agree or they were stale, still needs answers
        (pi_app.visits.tracking_skip asks, from worker threads: reads only)."""
        rule_name = rule_for(visit.decision)
        acted = self._acted.get(visit.id)
        if rule_name is None or acted is None or rule_name not in acted.rules:
            return False
        rule = self.config.rules[rule_name]
        if rule.door is None or acted.door_opened:
            return True
        policy = self.config.visits.decision
        # A person whose record refuses entry needs no door-grade clip more: the door stays shut for them either way.
        return (door_verdict(rule, visit, policy, self.clock()).reason == NOT_ALLOWED
                or refused_entry(rule, visit, policy))

    def _ask_door(self, rule: Rule, visit: VisitView, best: Vote, now: float) -> None:
        """Confirm mode: file a door request (the confirmer opens on approval) and alert with its link."""
        assert rule.door is not None  # door_verdict opens only a rule with a door
        if self.confirmer is None:
            log.warning("confirm mode without the door-request API: the door stays shut", extra={"visit_id": visit.id})
            self._report(VisitAction(visit_id=visit.id, rule="door_request", decision=visit.decision.name,
                                     door_reason="no door-request API"))
            return
        self.alerted.add(best.key)  # the console's Door page shows this clip now: uploaded alone, never bundled
        request_id = self.confirmer.ask(visit.id, visit.decision.name, best.key, rule.door, rule.confirm_timeout_s)
        alert_id = self._alert("door_request", visit.decision.name, best.confidence, best.at, best.clip, best.key,
                               best.details, now, visit.id, door_request_id=request_id)
        self._report(VisitAction(visit_id=visit.id, rule="door_request", decision=visit.decision.name,
                                 door_reason="asked", door_request=request_id, alert_id=alert_id))

    def _carry_out(self, what: Plan, rule: Rule, visit: VisitView, best: Vote, now: float, door_reason: str) -> None:
        for pulse in what.pulses:
            self.outputs.pulse(pulse.output, pulse.seconds)
        alert_id = None
        if what.alert:
            alert_id = self._alert(rule.name, visit.decision.name, best.confidence, best.at, best.clip, best.key,
                                   best.details, now, visit.id)
        self._report(VisitAction(visit_id=visit.id, rule=rule.name, decision=visit.decision.name,
                                 pulses=[p.output for p in what.pulses], door=what.opens_door, door_reason=door_reason,
                                 alert_id=alert_id, age_s=round(now - visit.last_at, 2)))

    def _no_face(self, event: ClipRecognition) -> None:
        rule = self.config.rules[NO_FACE]
        seen_at = event.recorded_at or self.clock()
        if rule.does_nothing or not self.cooldowns.allows(NO_FACE, seen_at, rule.cooldown_s):
            return
        now = self.clock()
        what = plan(rule, signals=now - seen_at <= rule.max_age_s, alert=True, opens_door=False)
        for pulse in what.pulses:
            self.outputs.pulse(pulse.output, pulse.seconds)
        alert_id = (self._alert(NO_FACE, NO_FACE, None, seen_at, event.clip, event.key, {}, now, "")
                    if what.alert else None)
        log.info("no face", extra={"clip": event.clip, "pulses": [p.output for p in what.pulses],
                                   "alert_id": alert_id})

    def _report(self, action: VisitAction) -> None:
        log.info("visit action", extra=to_builtins(action))
        if self.publish is not None:
            self.publish(action)

    def _alert(self, rule: str, name: str, confidence: float | None, seen_at: float, clip: str, key: str,
               details: dict[str, Any], now: float, visit_id: str, door_request_id: str = "") -> str | None:
        if self.submit_alert is None:
            return None
        alert = Alert(id=new_alert_id(now), rule=rule, name=name, confidence=confidence, device_id=self.device_id,
                      seen_at=seen_at, created_at=now, clip=clip, clip_key=key, details=dict(details),
                      visit_id=visit_id, door_request_id=door_request_id)
        self.alerted.add(key)  # before the alert is out: the clip's worker asks right after this event
        try:
            self.submit_alert(alert)
        except OSError:  # disk full or read-only: the pins still worked; never break the event bus
            log.exception("alert could not be stored", extra={"alert_id": alert.id})
            return None
        return alert.id

    def _acted_on(self, visit_id: str) -> _Acted:
        acted = self._acted.get(visit_id)
        if acted is None:
            acted = self._acted[visit_id] = _Acted()
            while len(self._acted) > REMEMBERED_VISITS:
                self._acted.popitem(last=False)
        return acted


def _best_vote(visit: VisitView, name: str) -> Vote:
    """The visit's most confident clip for `name` (the one an alert shows): an answered one, not a tracked copy."""
    named = [v for v in visit.votes if v.name == name]
    return max([v for v in named if not v.tracked_from] or named, key=lambda v: v.weight)
