"""Who may use the console: one password (set at deploy, kept as a scrypt hash), a signed session cookie, a CSRF
token in every form, and a brake on guessing.

The session cookie is signed with a key made when the console starts (a restart signs everybody out), carries no
secret, is HttpOnly and SameSite=Strict, and names the password it was made under: a new password set by
`facegate deploy` ends the sessions of the old one.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

SESSION_COOKIE = "facegate_console"
SESSION_HOURS = 12
CSRF_FIELD = "csrf_token"
USER = "console"


class NeedLogin(Exception):
    """The request has no valid session."""


class CsrfRejected(Exception):
    """A form post without the session's CSRF token."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, sent: Any) -> None:
    """Raise CsrfRejected unless `sent` is the session's token (constant-time)."""
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise CsrfRejected()


def sign_in(request: Request, fingerprint: str) -> None:
    """A fresh session for the person who just gave the password (new CSRF token: no fixation)."""
    request.session.clear()
    request.session.update({"user": USER, "login": fingerprint, "at": int(time.time()),
                            "csrf": secrets.token_urlsafe(24)})


def sign_out(request: Request) -> None:
    request.session.clear()


def signed_in(request: Request, fingerprint: str | None) -> bool:
    """True for a session made under the current password."""
    session = request.session
    return (fingerprint is not None and session.get("user") == USER and session.get("login") == fingerprint
            and isinstance(session.get("at"), int) and time.time() - session["at"] < SESSION_HOURS * 3600)


def safe_next(value: str | None) -> str:
    """Where to go after login: a path on this site only (no `//host`, no scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/visits"
    return value


@dataclass
class LoginThrottle:
    """After `limit` failed logins from one address within `window_s`, that address waits `lock_s`.

    An attempt is counted when it starts (`reserve`), under the lock, before the password is hashed: concurrent
    guesses cannot all pass the check before any of them is recorded. A right password clears the count."""

    limit: int = 5
    window_s: float = 900.0
    lock_s: float = 60.0
    _attempts: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reserve(self, client: str, now: float | None = None) -> float:
        """Count an attempt by `client` and return 0, or return the seconds it must still wait (nothing counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._attempts.get(client, []) if now - t < self.window_s]
            if len(recent) >= self.limit and recent[-1] + self.lock_s > now:
                self._attempts[client] = recent
                return recent[-1] + self.lock_s - now
            self._attempts[client] = [*recent, now]
            if len(self._attempts) > 10_000:  # many addresses: forget the oldest
                self._attempts.pop(next(iter(self._attempts)))
            return 0.0

    def succeeded(self, client: str) -> None:
        """The right password: forget `client`'s attempts."""
        with self._lock:
            self._attempts.pop(client, None)
