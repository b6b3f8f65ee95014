"""A record of what one deploy or destroy step did, so re-runs can say "no changes"."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Action(str, Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    ABSENT = "absent"


@dataclass(frozen=True)
class Change:
    """One resource and what happened to it."""

    kind: str
    name: str
    action: Action
    detail: str = ""

    @property
    def changed(self) -> bool:
        return self.action in (Action.CREATED, Action.UPDATED, Action.DELETED)


def any_changed(changes: list[Change]) -> bool:
    """True when at least one step changed something."""
    return any(c.changed for c in changes)
