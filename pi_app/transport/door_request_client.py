"""The device's side of door requests (confirm mode): file one (POST /door-requests) and read its state
(POST /door-request-status), with the device's own API key. Every failure is a ServiceError (pi_app.transport.
service_errors), and an answer that is not the contract's DoorRequestState is one too: the caller keeps the door
shut on any of them."""
from __future__ import annotations

from facegate_contract import DOOR_REQUEST_STATUS_PATH, DOOR_REQUESTS_PATH
from facegate_contract.wire import DoorRequest, DoorRequestQuery, DoorRequestState, WireError, decode, encode
from pi_app.transport.api_session import ApiSession
from pi_app.transport.service_errors import ServiceUnavailable


class ApiDoorRequests:
    """Door requests through the stack's API."""

    def __init__(self, session: ApiSession, api_url: str) -> None:
        self._session = session
        self._file_url = api_url.rstrip("/") + DOOR_REQUESTS_PATH
        self._state_url = api_url.rstrip("/") + DOOR_REQUEST_STATUS_PATH

    def file(self, request: DoorRequest) -> DoorRequestState:
        """File `request` (again: its state); raises a ServiceError when the API cannot be used."""
        return self._post("door request", self._file_url, encode(request), request.request_id)

    def state(self, request_id: str) -> DoorRequestState:
        """The state of one of this device's requests; raises a ServiceError when the API cannot be used."""
        return self._post("door request status", self._state_url, encode(DoorRequestQuery(request_id=request_id)),
                          request_id)

    def _post(self, service: str, url: str, body: bytes, request_id: str) -> DoorRequestState:
        response = self._session.request(service, "POST", url, data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            state = decode(response.content, DoorRequestState)
        except WireError as exc:  # a 200 that is not a state: doubt, so the door stays shut
            raise ServiceUnavailable(f"{service}: the answer is not a door request state ({exc})") from exc
        if state.request_id != request_id:  # another request's answer is no answer to this one
            raise ServiceUnavailable(f"{service}: the answer is about another request")
        return state
