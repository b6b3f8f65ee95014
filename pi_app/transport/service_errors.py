"""What a call to one of the stack's services can end in, in one vocabulary for every client the worker uses.

- `ServiceRefused`: the service answered about *this request* (a 4xx such as 400, 404, 413) and the same
  request will get the same answer: final for recognition (recorded as refused).
- `ServiceAuthRejected`: 401 / 403, the device's credentials were rejected (key revoked, device removed).
  Not the request's fault and not for ever: retried later, after a long backoff; never final.
- `ServiceThrottled`: 429, too many requests: retried after the service's Retry-After.
- `ServiceUnavailable`: unreachable, timed out, a redirect (3xx, never followed), 408 or 5xx: retried after a
  backoff (or Retry-After on 503).

A client (recognize_client today, an upload client later) raises these; anything else it raises is treated
like `ServiceUnavailable` by the worker, so an unexpected error can delay a clip but never drop it.
"""
from __future__ import annotations

AUTH_STATUSES = (401, 403)
THROTTLED_STATUS = 429
RETRYABLE_4XX = (408,)  # request timeout: the service gave up waiting, the request itself was fine


class ServiceError(Exception):
    """A service call that did not succeed; `status` is the HTTP status when there was an answer."""

    def __init__(self, message: str, *, status: int | None = None, error: str = "",
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error  # the service's short error code, when it gave one
        self.retry_after_s = retry_after_s  # what the service asked for (Retry-After), uncapped


class ServiceUnavailable(ServiceError):
    """The service could not be reached or could not answer now: try again after a backoff."""


class ServiceThrottled(ServiceUnavailable):
    """The service asked the device to slow down (429): try again after its Retry-After."""


class ServiceAuthRejected(ServiceError):
    """The device's credentials were rejected (401/403): try again much later; someone has to fix the key."""


class ServiceRefused(ServiceError):
    """The service refused this request (4xx): sending it again cannot help."""


def error_for_status(service: str, status: int, *, error: str = "", message: str = "",
                     retry_after_s: float | None = None) -> ServiceError | None:
    """The exception an answer with HTTP `status` stands for (None for 1xx-2xx); `service` names it in the message.

    A 3xx is unavailable, not followed: the stack's API never redirects, so one is a misconfigured proxy or a
    hijacked name, and following it would hand the device's key (or a clip) to another host."""
    if status < 300:
        return None
    text = f"{service} answered {status}" + (f" {error}" if error else "") + (f": {message}" if message else "")
    kind: type[ServiceError]
    if status in AUTH_STATUSES:
        kind = ServiceAuthRejected
    elif status == THROTTLED_STATUS:
        kind = ServiceThrottled
    elif status >= 500 or status < 400 or status in RETRYABLE_4XX:
        kind = ServiceUnavailable
    else:
        kind = ServiceRefused
    return kind(text, status=status, error=error, retry_after_s=retry_after_s)
