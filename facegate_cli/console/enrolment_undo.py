"""Undo of a stranger's enrolment: what the library looked like for that person before, kept by the console for a
while under a random token (in memory: a restart forgets it, and the person can still be removed or re-enrolled)."""
from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

UNDO_WINDOW_S = 30 * 60
MAX_UNDOS = 50


@dataclass(frozen=True)
class UndoRecord:
    """One enrolment as it can be taken back."""

    label: str
    version: str  # the model version the enrolment made: undo only while it is still the current one
    was_new: bool  # the person was not in the library before: undo removes them
    gallery_before: np.ndarray | None  # their embeddings before (None: not enrolled)
    photo_keys: list[str]  # the enrolment photos it added
    visit_ids: list[str]  # the visits it marked reviewed
    faces: int
    made_at: float = field(default_factory=time.time)


class UndoBook:
    """Recent enrolments by token, the oldest forgotten first; each can be taken once, within UNDO_WINDOW_S."""

    def __init__(self) -> None:
        self._records: OrderedDict[str, UndoRecord] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, record: UndoRecord) -> str:
        """Remember `record`; returns its token."""
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._records[token] = record
            while len(self._records) > MAX_UNDOS:
                self._records.popitem(last=False)
        return token

    def peek(self, token: str) -> UndoRecord | None:
        """The record of `token` while it can still be undone."""
        with self._lock:
            record = self._records.get(token)
        return record if record and time.time() - record.made_at < UNDO_WINDOW_S else None

    def take(self, token: str) -> UndoRecord | None:
        """The record of `token`, forgotten (an undo happens once); None when unknown or too old."""
        record = self.peek(token)
        with self._lock:
            self._records.pop(token, None)
        return record
