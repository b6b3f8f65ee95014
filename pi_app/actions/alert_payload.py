"""The body of an alert as it leaves the device: the stored alert plus a freshly signed clip link and
whether the clip is known to be in S3 yet."""
from __future__ import annotations

import logging
from collections.abc import Container
from typing import Any

from pi_app.actions.alert import Alert
from pi_app.actions.clip_links import ClipLinks

log = logging.getLogger(__name__)


class AlertPayloads:
    """Builds webhook bodies; signs links valid for `expiry_s` from the moment of sending."""

    def __init__(self, clip_links: ClipLinks | None, expiry_s: int, uploaded: Container[str] = frozenset(),
                 console_url: str = "") -> None:
        self.clip_links = clip_links
        self.expiry_s = expiry_s
        self.uploaded = uploaded
        self.console_url = console_url

    def build(self, alert: Alert) -> dict[str, Any]:
        """The JSON body for one delivery attempt of `alert`."""
        return alert.payload(self._clip_url(alert), self.expiry_s, clip_pending=alert.clip_key not in self.uploaded,
                             console_url=self.console_url)

    def _clip_url(self, alert: Alert) -> str | None:
        if self.clip_links is None or not alert.clip_key:
            return None
        try:
            return self.clip_links.url(alert.clip_key, self.expiry_s)
        except Exception as exc:  # no credentials, a misconfigured client: the alert matters more than its link
            log.warning("clip link could not be signed; alert sent without it",
                        extra={"alert_id": alert.id, "error": f"{exc.__class__.__name__}: {exc}"[:300]})
            return None
