"""Cool-downs: a visit is every sighting of the same subject (a person, "unknown", "no_face") with no gap
longer than the cool-down between them, so a person standing at the door for a minute fires once, not
120 times.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

KEPT_VISITS = 16  # per subject: enough for a backlog resumed from the spool; older ones cannot come back


@dataclass
class _Visit:
    first: float
    last: float


class VisitTracker:
    """Remembers each subject's recent visits (by clip recording time) and says which sightings start a new one."""

    def __init__(self) -> None:
        self._visits: dict[str, list[_Visit]] = {}
        self._lock = threading.Lock()

    def starts_visit(self, subject: str, seen_at: float, cooldown_s: float) -> bool:
        """Record a sighting; True when it is the first of a new visit.

        Workers take the newest clip first, so after an outage a visit's clips arrive newest to oldest:
        a sighting within the cool-down of either end of a known visit joins it, whichever way it extends it.
        """
        with self._lock:
            visits = self._visits.setdefault(subject, [])
            for visit in visits:
                if visit.first - cooldown_s <= seen_at <= visit.last + cooldown_s:
                    visit.first, visit.last = min(visit.first, seen_at), max(visit.last, seen_at)
                    return False
            visits.append(_Visit(seen_at, seen_at))
            visits.sort(key=lambda v: v.last)
            del visits[:-KEPT_VISITS]
            return True
