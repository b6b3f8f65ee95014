"""The device's side of footage requests: read its open ones (POST /footage-requests, one small call a poll) and
answer one (POST /footage-results), with the device's own API key. Every failure is a ServiceError
(pi_app.transport.service_errors); an answer that is not the contract's type is a ServiceUnavailable (tried again at
the next poll)."""
from __future__ import annotations

from typing import TypeVar

from facegate_contract import FOOTAGE_REQUESTS_PATH, FOOTAGE_RESULTS_PATH
from facegate_contract.wire import (FootageAsk, FootageRequests, FootageRequestsQuery, FootageRequestState,
                                    FootageResult, WireError, decode, encode)
from pi_app.transport.api_session import ApiSession
from pi_app.transport.service_errors import ServiceUnavailable

T = TypeVar("T")


class ApiFootage:
    """Footage requests through the stack's API."""

    def __init__(self, session: ApiSession, api_url: str) -> None:
        self._session = session
        self._requests_url = api_url.rstrip("/") + FOOTAGE_REQUESTS_PATH
        self._results_url = api_url.rstrip("/") + FOOTAGE_RESULTS_PATH

    def open_requests(self) -> list[FootageAsk]:
        """This device's footage requests not answered yet (oldest first); raises a ServiceError."""
        return self._post("footage requests", self._requests_url, encode(FootageRequestsQuery()),
                          FootageRequests).requests

    def answer(self, result: FootageResult) -> FootageRequestState:
        """Answer one of this device's requests (again: its state); raises a ServiceError."""
        state = self._post("footage result", self._results_url, encode(result), FootageRequestState)
        if state.request_id != result.request_id:
            raise ServiceUnavailable("footage result: the answer is about another request")
        return state

    def _post(self, service: str, url: str, body: bytes, kind: type[T]) -> T:
        response = self._session.request(service, "POST", url, data=body, headers={"Content-Type": "application/json"})
        try:
            return decode(response.content, kind)
        except WireError as exc:
            raise ServiceUnavailable(f"{service}: the answer is not the contract's ({exc})") from exc
