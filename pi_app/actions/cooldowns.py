"""Cool-downs: a subject's rule (a person, "unknown", "no_face") fires again only after `cooldown_s` of
recording time without a sighting of that subject, so a shadow flickering at the door for a minute
fires once, not 120 times. Visits already say when a person's rule fires again; this is the pause on top.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

KEPT_SPELLS = 16  # per subject: enough for a backlog resumed from the spool; older ones cannot come back


@dataclass
class _Spell:
    first: float
    last: float


class Cooldowns:
    """Remembers each subject's recent spells of sightings (by clip recording time)."""

    def __init__(self) -> None:
        self._spells: dict[str, list[_Spell]] = {}
        self._lock = threading.Lock()

    def allows(self, subject: str, seen_at: float, cooldown_s: float) -> bool:
        """Record a sighting; True when it starts a new spell (always, with no cool-down).

        Workers take the newest clip first, so after an outage clips arrive newest to oldest: a sighting
        within the cool-down of either end of a known spell joins it, whichever way it extends it.
        """
        if cooldown_s <= 0:
            return True
        with self._lock:
            spells = self._spells.setdefault(subject, [])
            for spell in spells:
                if spell.first - cooldown_s <= seen_at <= spell.last + cooldown_s:
                    spell.first, spell.last = min(spell.first, seen_at), max(spell.last, seen_at)
                    return False
            spells.append(_Spell(seen_at, seen_at))
            spells.sort(key=lambda s: s.last)
            del spells[:-KEPT_SPELLS]
            return True
