"""The history the timeline shows: a date range, partial case-insensitive filters on the decision and the device,
and a cursor (`before`, a visit id) to the next, older page.

DynamoDB filters are exact and case-sensitive, so the range is a key condition and the filters a test on each
visit read (`services.visit_log.page_visits`).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

from facegate_cli.console.backend import ConsoleError
from services.visit_log import SinceError, VisitRecord, since_epoch, visit_key_at

PAGE_SIZE = 50
_DAY_S = 86400
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VISIT_ID = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-[0-9A-Za-z]{1,64}$")


def moment_of(field: str, value: str, now: float | None = None) -> float:
    """A form's time (`2h`, `7d` before `now` or a UTC date like 2026-11-29T10:00) as epoch seconds; ConsoleError
    naming `field` when it cannot be read."""
    try:
        return since_epoch(value, now)
    except SinceError as exc:
        raise ConsoleError(f"{field}: {value!r} is neither a duration like 2h or 7d nor a UTC date like 2026-11-29")\
            from exc


def _folded(text: str) -> str:
    """Case and the space/underscore spelling of a name do not matter."""
    return text.strip().casefold().replace(" ", "_")


@dataclass(frozen=True)
class HistoryQuery:
    """What the operator asked for (the page's query string; empty means not set)."""

    since: str = ""
    until: str = ""
    device: str = ""
    name: str = ""
    before: str = ""

    def check(self) -> HistoryQuery:
        """Itself, or ConsoleError naming the field that cannot be read."""
        if self.since:
            moment_of("from", self.since)
        if self.until:
            moment_of("until", self.until)
        if self.before and not _VISIT_ID.match(self.before):
            raise ConsoleError("before: not a visit id")
        return self

    @property
    def filtered(self) -> bool:
        """True when anything but the page cursor narrows the list."""
        return bool(self.since or self.until or self.device or self.name)

    @property
    def since_epoch(self) -> float | None:
        return moment_of("from", self.since) if self.since else None

    @property
    def upper_key(self) -> str | None:
        """The visit id the page ends before: the cursor or the end of the range, whichever is earlier.
        A bare date as `until` means the end of that day."""
        bounds = [self.before] if self.before else []
        if self.until:
            moment = moment_of("until", self.until) + (_DAY_S if _DATE_ONLY.match(self.until.strip()) else 0)
            bounds.append(visit_key_at(moment))
        return min(bounds) if bounds else None

    def keep(self, visit: VisitRecord) -> bool:
        """Does the visit match the name and device filters (partial, any case)?"""
        if self.name and _folded(self.name) not in _folded(visit.decision) and \
                _folded(self.name) not in _folded(visit.review):
            return False
        return not self.device or _folded(self.device) in _folded(visit.device)

    def params(self, **changes: str) -> dict[str, str]:
        """The query string of this query with `changes` (only the fields that are set)."""
        return {k: v for k, v in asdict(replace(self, **changes)).items() if v}
