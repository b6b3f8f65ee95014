"""The event sink that keeps visits: `recognition` events go into a VisitTracker; each change goes to the
listeners (the actions) and, as a visit event, to `publish` (the event log, through an EventRelay)."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from pi_app.runtime.events import Event
from pi_app.visits.tracker import VisitChange, VisitTracker, VisitView
from pi_app.visits.visit_events import visit_event

VisitListener = Callable[[VisitChange], None]


class VisitSink:
    """Feeds one tracker (feed each tracker from one sink only: a clip counts once)."""

    def __init__(self, tracker: VisitTracker, listeners: Iterable[VisitListener] = (),
                 publish: Callable[[Event], None] | None = None) -> None:
        self.tracker = tracker
        self.listeners = list(listeners)
        self.publish = publish

    @property
    def visits(self) -> VisitTracker:
        """The tracker this sink feeds (the same attribute as ActionSink's)."""
        return self.tracker

    def done_with(self, visit: VisitView) -> bool:
        """Always True: without actions a decided visit has nothing left to do (pi_app.visits.tracking_skip)."""
        return True

    def handle(self, event: Event) -> None:
        """Take one device event."""
        self._fan_out(self.tracker.observe(event))

    def close(self) -> None:
        """End the visits still open (shutdown: no answer will come for them in this run)."""
        self._fan_out(self.tracker.end_all())

    def _fan_out(self, changes: list[VisitChange]) -> None:
        for change in changes:
            event = visit_event(change)
            if event is not None and self.publish is not None:
                self.publish(event)  # logged before anything acts on it
            for listener in self.listeners:
                listener(change)
