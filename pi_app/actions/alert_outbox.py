"""The alert outbox: every alert is on disk before it is sent, so a crash, a reboot or a long outage of
the receiver loses none.

    <root>/pending/<id>.json   waiting to be delivered (replaced atomically after every attempt)
    <root>/dead/<id>.json      given up on (refused by the receiver, or expired), with the reason

Delivered alerts are deleted. Files are written like the clip spool's state (temp file + fsync + rename).
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from pi_app.actions.alert import Alert
from pi_app.recording.durable_files import private_dir, write_atomically

log = logging.getLogger(__name__)

PENDING, DEAD = "pending", "dead"


class AlertOutbox:
    """Alerts waiting for delivery, oldest first, and a bounded record of the ones given up on."""

    def __init__(self, root: Path, keep_dead: int = 200) -> None:
        self.root = Path(root)
        self.keep_dead = keep_dead  # a receiver refusing everything must not fill the SD card
        (self.root / PENDING).mkdir(parents=True, exist_ok=True)
        (self.root / DEAD).mkdir(exist_ok=True)
        private_dir(self.root)  # alerts name visitors: owner-only
        self._lock = threading.Lock()

    def put(self, alert: Alert) -> None:
        """Store a new alert, or the updated history of a pending one."""
        with self._lock:
            write_atomically(self._path(PENDING, alert.id), json.dumps(alert.to_json()))

    def pending(self) -> list[Alert]:
        """Every alert still to deliver, oldest first; an unreadable file is moved to dead/ and skipped."""
        alerts = []
        for path in sorted((self.root / PENDING).glob("*.json")):
            try:
                alerts.append(Alert.from_json(json.loads(path.read_text(encoding="utf-8"))))
            except FileNotFoundError:
                continue  # delivered meanwhile by another caller
            except (OSError, ValueError, TypeError) as exc:
                log.error("unreadable alert moved to dead/", extra={"file": path.name, "error": repr(exc)})
                path.replace(self._path(DEAD, path.stem))
        return alerts

    def delivered(self, alert: Alert) -> None:
        """The receiver has it: forget it."""
        with self._lock:
            self._path(PENDING, alert.id).unlink(missing_ok=True)

    def give_up(self, alert: Alert, reason: str) -> None:
        """Stop trying: move the alert to dead/ with `reason`, keeping only the newest `keep_dead` there."""
        with self._lock:
            record = {**alert.to_json(), "gave_up": reason}
            write_atomically(self._path(DEAD, alert.id), json.dumps(record))
            self._path(PENDING, alert.id).unlink(missing_ok=True)
            dead = sorted((self.root / DEAD).glob("*.json"))
            for old in dead[:max(0, len(dead) - self.keep_dead)]:
                old.unlink(missing_ok=True)

    def dead(self) -> list[dict]:
        """The alerts given up on, oldest first, each with its `gave_up` reason."""
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((self.root / DEAD).glob("*.json"))]

    def _path(self, folder: str, alert_id: str) -> Path:
        return self.root / folder / f"{alert_id}.json"
