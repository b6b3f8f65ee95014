"""What both Lambda functions share: take an API Gateway proxy event, find its route, answer with JSON.

The caller's device comes from its API key (the `devices` table); a client's mistake is a 4xx `{error,
message}`; a route this function does not serve is a 404; anything unexpected is logged and answered 500 without
details.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from recognizer.api.event import RequestError, api_key, route
from recognizer.api.device_identity import LocalDevice
from recognizer.api.responses import error_response

log = logging.getLogger(__name__)

Route = Callable[[dict[str, Any]], dict[str, Any]]


class Devices(Protocol):
    """Which device an API key is (recognizer.api.device_identity)."""

    def device_for(self, api_key: str) -> str: ...


class ProxyService:
    """A function's routes (path → handler of the event) behind one error policy."""

    def __init__(self, routes: dict[str, Route], devices: Devices | None = None) -> None:
        self.routes = routes
        self.devices = devices or LocalDevice()

    def handle(self, event: Any) -> dict[str, Any]:
        """Answer one proxy event; client mistakes become 4xx JSON."""
        try:
            path = route(event)
            handler = self.routes.get(path)
            if handler is None:
                raise RequestError(404, "not_found", f"{path} is not served by this function")
            return handler(event)
        except RequestError as exc:
            log.info("request refused", extra={"status": exc.status, "error": exc.kind})
            return error_response(exc.status, exc.kind, str(exc))
        except Exception:  # a bug, not the caller's fault: say so without details, log everything
            log.exception("request failed")
            return error_response(500, "internal_error", "the function failed on this request; it has been logged")

    def device(self, event: dict[str, Any]) -> str:
        """The calling device (from its API key); 403 for an unknown key, 503 when the registry is unreadable."""
        try:
            return self.devices.device_for(api_key(event))
        except RequestError:
            raise
        except Exception as exc:  # the registry cannot be read: the caller may retry
            log.error("device lookup failed", extra={"error": repr(exc)[:300]})
            raise RequestError(503, "unavailable", "the device registry is unavailable; try again") from exc
