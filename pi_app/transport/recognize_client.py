"""HTTP client for POST /recognize: one attempt per call, bounded by a connect and a read timeout.

Retrying is not done here: the worker's ServiceGate owns it (backoff shared by every clip, stale clips
uploaded on time). A call ends in a Recognition or raises one of pi_app.transport.service_errors: refused (4xx, final),
auth rejected (401/403), throttled (429), unavailable (connection error, timeout, 408, 5xx, or an answer that is
not the contract's RecognizeAnswer), the throttled and unavailable with the service's Retry-After when it sent one.

The answer is decoded here, once, into the contract's typed objects (facegate_contract.wire.RecognizeAnswer):
everything after this reads `face.name`, `face.box`..., never a key of a dict.
"""
from __future__ import annotations

from dataclasses import dataclass

from facegate_contract import CLIP_KEY_HEADER, MAX_FRAME_BYTES
from facegate_contract.wire import Face, RecognizeAnswer, WireError, decode
from pi_app.transport.api_session import ApiSession
from pi_app.transport.service_errors import ServiceRefused, ServiceUnavailable

# The names callers used before pi_app.transport.service_errors: the same classes.
RecognizeRefused = ServiceRefused
RecognizeUnavailable = ServiceUnavailable


@dataclass(frozen=True)
class Recognition:
    """The API's answer for one frame, with the round-trip latency seen from the device."""

    answer: RecognizeAnswer
    latency_ms: float

    @property
    def faces(self) -> list[Face]:
        """Every face in the frame."""
        return self.answer.faces

    @property
    def names(self) -> list[str]:
        """Each face's label (or unknown), in the answer's order."""
        return [face.name for face in self.answer.faces]

    @property
    def model_version(self) -> str:
        """The model that answered."""
        return self.answer.model_version

    @property
    def server_ms(self) -> float | None:
        """The recognizer's own time for the frame (what Lambda bills), when it said."""
        return self.answer.timings_ms.get("total")


class RecognizeClient:
    """Sends frames to the deployed API's /recognize through the device's API session."""

    def __init__(self, url: str, session: ApiSession) -> None:
        self.url = url
        self.session = session

    def recognize(self, frame: bytes, content_type: str = "image/jpeg", clip_key: str = "") -> Recognition:
        """POST one encoded frame once; raises a pi_app.transport.service_errors.ServiceError when there is no answer to use.

        A frame over the API's limit is refused here, as the API would refuse it (413): past the limit the
        platform answers a bare 502 that no retry can fix.
        """
        if len(frame) > MAX_FRAME_BYTES:
            raise ServiceRefused(f"the frame is {len(frame)} bytes; the API takes at most {MAX_FRAME_BYTES}",
                                 status=413, error="payload_too_large")
        headers = {"Content-Type": content_type, **({CLIP_KEY_HEADER: clip_key} if clip_key else {})}
        response = self.session.request("recognize", "POST", self.url, data=frame, headers=headers)
        try:
            answer = decode(response.content, RecognizeAnswer)
        except WireError as exc:  # a proxy's page or a broken deploy: not this frame's fault, so retried
            raise ServiceUnavailable(f"recognize answered {response.status_code} with no face answer: {exc}"[:300],
                                     status=response.status_code) from exc
        return Recognition(answer, latency_ms=response.elapsed.total_seconds() * 1e3)

    def close(self) -> None:
        """Release the HTTP connections."""
        self.session.close()
