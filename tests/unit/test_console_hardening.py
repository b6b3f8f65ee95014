"""The console's front door: which Host names it answers, which peer the login brake counts, and that concurrent
guesses cannot outrun the brake. A stand-in backend: no AWS, no face pipeline."""
from __future__ import annotations

import asyncio
import re
import threading
import time
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the console extra is not installed")

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from facegate_cli.console import auth, command  # noqa: E402
from facegate_cli.console.app import create_app  # noqa: E402

LOCAL = "http://127.0.0.1:8080"


class CountingRecord:
    """A login record whose checks are counted (each real one costs 128 MiB and a fraction of a second)."""

    fingerprint = "f" * 16

    def __init__(self) -> None:
        self.checks = 0
        self._lock = threading.Lock()

    def verify(self, password: str) -> bool:
        with self._lock:
            self.checks += 1
        time.sleep(0.01)
        return password == "the right password"


class StandInBackend:
    """Just what the login pages and `facegate console` ask of a backend."""

    def __init__(self) -> None:
        self.record = CountingRecord()

    def login_record(self) -> CountingRecord:
        return self.record

    def describe(self) -> str:
        return "stand-in stack"

    def keep_review_ready(self) -> None:
        return None

    def keep_thumbnails_ready(self) -> None:
        return None


def _csrf(page: str) -> str:
    match = re.search(rf'name="{auth.CSRF_FIELD}" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_concurrent_wrong_passwords_run_no_more_checks_than_the_limit() -> None:
    backend = StandInBackend()
    app = create_app(backend, throttle=auth.LoginThrottle(limit=5, lock_s=60))  # type: ignore[arg-type]

    async def guess_40_at_once() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=LOCAL) as client:
            token = _csrf((await client.get("/login")).text)
            answers = await asyncio.gather(*(client.post("/login", data={"password": f"guess-{i}", "next": "/",
                                                                          auth.CSRF_FIELD: token})
                                             for i in range(40)))
            return [a.status_code for a in answers]

    statuses = asyncio.run(guess_40_at_once())
    assert backend.record.checks == 5
    assert sorted(statuses) == [401] * 5 + [429] * 35


def test_the_brake_clears_on_the_right_password_and_locks_after_the_limit() -> None:
    throttle = auth.LoginThrottle(limit=2, window_s=100, lock_s=10)
    assert throttle.reserve("a", now=0) == 0 and throttle.reserve("a", now=1) == 0
    assert throttle.reserve("a", now=2) == pytest.approx(9) and throttle.reserve("b", now=2) == 0
    assert throttle.reserve("a", now=11) == 0  # the lock ran out: one more try, which locks again
    assert throttle.reserve("a", now=12) == pytest.approx(9)
    throttle.succeeded("b")
    assert throttle.reserve("b", now=3) == 0 and throttle.reserve("b", now=3) == 0


def test_the_console_answers_only_to_the_hosts_it_is_served_on() -> None:
    app = create_app(StandInBackend(), allowed_hosts=("127.0.0.1", "localhost", "console.lan"))  # type: ignore[arg-type]
    client = TestClient(app, base_url=LOCAL)
    assert client.get("/login").status_code == 200
    assert client.get("/login", headers={"Host": "localhost:8080"}).status_code == 200
    assert client.get("/login", headers={"Host": "console.lan"}).status_code == 200
    assert client.get("/login", headers={"Host": "attacker.example:8080"}).status_code == 400  # DNS rebinding


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`facegate console` up to uvicorn.run, which only records what it was given."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(command.ConsoleBackend, "open", classmethod(lambda cls, *a, **k: StandInBackend()))
    monkeypatch.setattr(command.uvicorn, "run", lambda app, **options: seen.update(app=app, **options))
    return seen


def test_uvicorn_trusts_no_forwarded_header_unless_proxies_are_named(served: dict[str, Any]) -> None:
    command.console(host="127.0.0.1", port=8080)
    assert served["proxy_headers"] is False  # uvicorn's default would trust X-Forwarded-For from 127.0.0.1

    command.console(host="127.0.0.1", port=8080, forwarded_allow_ips="10.0.0.2")
    assert served["proxy_headers"] is True and served["forwarded_allow_ips"] == "10.0.0.2"


def test_the_console_command_allows_its_host_and_the_extra_names(served: dict[str, Any]) -> None:
    command.console(host="192.168.1.20", port=8080, allowed_host=["door.lan"])
    client = TestClient(served["app"], base_url="http://192.168.1.20:8080")
    for host in ("192.168.1.20:8080", "127.0.0.1:8080", "localhost", "door.lan"):
        assert client.get("/login", headers={"Host": host}).status_code == 200, host
    assert client.get("/login", headers={"Host": "rebound.example"}).status_code == 400
