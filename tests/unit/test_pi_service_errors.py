"""One vocabulary of service errors for every client, Retry-After in both of its forms, and the gate that
honours it."""
from __future__ import annotations

from email.utils import formatdate

import pytest

from pi_app.transport.backoff import Backoff
from pi_app.transport.retry_after import retry_after_of, retry_after_s
from pi_app.transport.retry_gate import RetryGate
from pi_app.transport.service_errors import (ServiceAuthRejected, ServiceRefused, ServiceThrottled, ServiceUnavailable,
                                   error_for_status)
from tests.unit.pi_support import FakeClock

NOW = 1_790_000_000.0
QUICK = Backoff(base_s=1.0, max_s=60.0, jitter=0.0)


@pytest.mark.parametrize("status, kind", [(200, None), (304, ServiceUnavailable), (307, ServiceUnavailable), (400, ServiceRefused), (404, ServiceRefused),
                                          (413, ServiceRefused), (401, ServiceAuthRejected),
                                          (403, ServiceAuthRejected), (408, ServiceUnavailable),
                                          (429, ServiceThrottled), (500, ServiceUnavailable),
                                          (503, ServiceUnavailable)])
def test_what_each_status_stands_for(status: int, kind: type | None) -> None:
    error = error_for_status("upload", status, error="code", message="why")

    assert type(error) is kind if kind else error is None
    if error is not None:
        assert error.status == status and str(error) == f"upload answered {status} code: why"


@pytest.mark.parametrize("value, expected", [("120", 120.0), ("0", 0.0), (" 5 ", 5.0), (None, None), ("", None),
                                             ("soon", None), ("-3", None),
                                             (formatdate(NOW + 30, usegmt=True), 30.0),
                                             (formatdate(NOW - 30, usegmt=True), 0.0)])
def test_retry_after_in_seconds_or_as_a_date(value: str | None, expected: float | None) -> None:
    assert retry_after_s(value, NOW) == expected


def test_retry_after_counts_only_on_429_and_503() -> None:
    headers = {"Retry-After": "9"}

    assert [retry_after_of(status, headers, NOW) for status in (429, 503, 500, 200)] == [9.0, 9.0, None, None]


def test_the_gate_waits_for_the_retry_after_when_it_is_longer_than_the_backoff_and_caps_it() -> None:
    clock = FakeClock(NOW)
    gate = RetryGate(QUICK, clock)

    assert gate.failed(retry_after_s=30) == NOW + 30  # backoff alone would be 1 s
    gate.succeeded()
    assert gate.failed(retry_after_s=0.5) == NOW + 1.0  # the backoff is longer
    gate.succeeded()
    assert gate.failed(retry_after_s=86_400) == NOW + QUICK.max_s  # capped


def test_a_late_answer_can_still_lengthen_a_closed_gate() -> None:
    clock = FakeClock(NOW)
    gate = RetryGate(QUICK, clock)
    gate.failed()  # shut for 1 s by one call...
    clock.advance(0.5)

    assert gate.failed() == NOW + 1.0  # ...a call under way at the same time does not lengthen it
    assert gate.failed(retry_after_s=20) == NOW + 20.5  # but one that was told to wait does
    assert gate.failed(backoff=Backoff(base_s=300, max_s=900, jitter=0)) == NOW + 300.5
    assert gate.failures == 1
