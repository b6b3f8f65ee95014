"""One HTTP session to the stack's API with the device's key: a single attempt per call, bounded by a connect
and a read timeout, every failure mapped to pi_app.transport.service_errors (retrying is the worker's gate's job)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from facegate_contract import API_KEY_HEADER
from pi_app.transport.retry_after import retry_after_of
from pi_app.transport.service_errors import ServiceUnavailable, error_for_status


@dataclass(frozen=True)
class AttemptTimeout:
    """Bounds one request: `connect_s` to open the connection, `read_s` to wait for the answer (per socket read:
    an answer of a few hundred bytes is one read, so a call ends within about connect_s + read_s)."""

    connect_s: float = 3.05
    read_s: float = 10.0

    @property
    def total_s(self) -> float:
        """The longest one attempt can hold a worker (for an answer that comes in one piece)."""
        return self.connect_s + self.read_s


class ApiSession:
    """Calls the API as one device. `timeout` may be changed before use (e.g. from the command line)."""

    def __init__(self, api_key: str, timeout: AttemptTimeout = AttemptTimeout()) -> None:
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({API_KEY_HEADER: api_key})
        # max_retries=0: exactly one attempt, so a call holds a worker for at most its timeout.
        adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=16)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def request(self, service: str, method: str, url: str, *, authorised: bool = True,
                **kwargs: Any) -> requests.Response:
        """One call; a failure raises ServiceRefused / ServiceAuthRejected / ServiceThrottled / ServiceUnavailable.

        `authorised=False` sends no API key (a presigned URL carries its own signature).
        """
        send = self._session.request if authorised else requests.request
        try:
            # Never follow a redirect: requests would re-send the API key to wherever it points. A 3xx is an error
            # (error_for_status), retried by the caller's gate like any answer that cannot be used.
            response = send(method, url, timeout=(self.timeout.connect_s, self.timeout.read_s),
                            **{**kwargs, "allow_redirects": False})
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"{service} failed: {exc.__class__.__name__}") from exc
        body = json_or_empty(response)
        failure = error_for_status(service, response.status_code, error=str(body.get("error", "")),
                                   message=str(body.get("message", response.text[:200])),
                                   retry_after_s=retry_after_of(response.status_code, response.headers, time.time()))
        if failure is not None:
            raise failure
        return response

    def post_json(self, service: str, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON object and return the JSON object answered."""
        return json_or_empty(self.request(service, "POST", url, json=payload))

    def close(self) -> None:
        """Release the HTTP connections."""
        self._session.close()


def json_or_empty(response: requests.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} when it is not one."""
    try:
        body = response.json()
        return body if isinstance(body, dict) else {}
    except ValueError:
        return {}
