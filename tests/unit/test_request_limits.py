"""Every limit of the API checked at its boundary: the last value allowed passes the check, the next one is
refused with its own 4xx (so moving a limit, e.g. MAX_PIXELS to 10**12, fails a test)."""
from __future__ import annotations

import base64
import json
import math

import numpy as np
import msgspec
import pytest

from pi_app.transport.api_session import ApiSession
from pi_app.transport.recognize_client import RecognizeClient
from pi_app.transport.service_errors import ServiceRefused
from recognizer.api.event import MAX_BODY_BYTES, MAX_JSON_BYTES, RequestError, frame_request, json_request
from recognizer.image_decode import MAX_PIXELS, MIN_SIDE, ImageError, decode_image
from tests.unit.bad_inputs import _png, _png_header_claiming


def _sides(pixels: int) -> tuple[int, int]:
    """A width and height whose product is exactly `pixels` (as square as it gets)."""
    width = next(w for w in range(math.isqrt(pixels), 0, -1) if pixels % w == 0)
    return width, pixels // width


def _error(call) -> tuple[int, str]:
    try:
        call()
    except RequestError as exc:
        return exc.status, exc.kind
    return 200, ""


def test_the_pixel_limit_is_exact() -> None:
    at_limit, over = _sides(MAX_PIXELS), (4096, 4097)
    assert over[0] * over[1] == MAX_PIXELS + 4096
    # At the limit the header passes; the (empty) pixel data then fails to decode: 400, not 413.
    assert _error(lambda: decode_image(_png_header_claiming(*at_limit))) == (400, "invalid_image")
    assert _error(lambda: decode_image(_png_header_claiming(*over))) == (413, "image_too_large")
    assert _error(lambda: decode_image(_png_header_claiming(MAX_PIXELS + 1, 1))) == (413, "image_too_large")


def test_the_smallest_side_is_exact() -> None:
    assert decode_image(_png(MIN_SIDE, MIN_SIDE)).shape == (MIN_SIDE, MIN_SIDE, 3)
    assert _error(lambda: decode_image(_png(MIN_SIDE - 1, 64))) == (400, "image_too_small")
    assert _error(lambda: decode_image(_png(64, MIN_SIDE - 1))) == (400, "image_too_small")


@pytest.mark.parametrize("base64_encoded", [True, False], ids=["binary (base64)", "text body"])
def test_the_body_limit_is_exact(base64_encoded: bool) -> None:
    def event(size: int) -> dict:
        body = b"\xff\xd8\xff" + b"\x00" * (size - 3)
        return {"headers": {"Content-Type": "image/jpeg"}, "isBase64Encoded": base64_encoded,
                "body": base64.b64encode(body).decode() if base64_encoded else body.decode("latin-1")}

    if not base64_encoded:  # a text body goes through UTF-8: keep to ASCII bytes there
        assert _error(lambda: frame_request({**event(10), "body": "x" * MAX_BODY_BYTES})) == (200, "")
        assert _error(lambda: frame_request({**event(10), "body": "x" * (MAX_BODY_BYTES + 1)})) == \
            (413, "payload_too_large")
        return
    assert len(frame_request(event(MAX_BODY_BYTES)).body) == MAX_BODY_BYTES
    assert _error(lambda: frame_request(event(MAX_BODY_BYTES + 1))) == (413, "payload_too_large")


class _Padded(msgspec.Struct):
    a: str


def test_the_json_limit_is_exact() -> None:
    def event(size: int) -> dict:
        filler = "x" * (size - len('{"a": ""}'))
        return {"headers": {}, "isBase64Encoded": False, "body": json.dumps({"a": filler})}

    errors: dict[str | None, str] = {None: "bad_request"}
    assert json_request(event(MAX_JSON_BYTES), _Padded, errors) == _Padded(a="x" * (MAX_JSON_BYTES - 9))
    assert _error(lambda: json_request(event(MAX_JSON_BYTES + 1), _Padded, errors)) == (413, "payload_too_large")


def test_the_device_refuses_a_frame_the_api_would_refuse_without_sending_it() -> None:
    client = RecognizeClient("http://127.0.0.1:9/recognize", ApiSession("k"))  # nothing listens: nothing is sent
    with pytest.raises(ServiceRefused) as refused:
        client.recognize(b"\xff\xd8\xff" + bytes(MAX_BODY_BYTES - 2))
    assert refused.value.status == 413


def test_a_real_frame_at_the_smallest_side_decodes_to_rgb() -> None:
    assert decode_image(_png(MIN_SIDE, MIN_SIDE)).dtype == np.uint8


def test_image_errors_are_request_errors() -> None:
    assert issubclass(ImageError, RequestError)
