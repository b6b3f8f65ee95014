"""The errors a new user meets first end in one clear line and an exit code, never a traceback.

Covered: no AWS credentials (with how to target the local stack instead), expired or rejected credentials, an
emulator or AWS endpoint that does not answer, a region that does not exist, a missing outputs or device file,
and a docker engine that is not running. Role packages mark their own such errors with `friendly = True` (and an
`exit_code`); botocore's are recognised here, importing botocore only once an error has happened.
`FACEGATE_DEBUG=1` shows the traceback of anything else.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

CONFIG_EXIT = 2  # the user's setup is wrong (credentials, region, missing file)
UNREACHABLE_EXIT = 3  # something that should answer did not (emulator, AWS endpoint, docker engine)
UNEXPECTED_EXIT = 1

LOCAL_STACK_HINT = ("to use the local stack instead, pass --endpoint-url http://localhost:4566 (or run where "
                    ".facegate/outputs.json is)")
_CLICK_OWN = {"ClickException", "Exit", "Abort"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_REJECTED = {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
             "InvalidAccessKeyId", "AuthFailure"}


def _is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return not host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def describe(exc: BaseException) -> tuple[str, int] | None:
    """(one-line message, exit code) for an error a user can fix, or None for anything else."""
    if getattr(exc, "friendly", False):
        return str(exc).splitlines()[0], int(getattr(exc, "exit_code", CONFIG_EXIT))
    try:
        from botocore import exceptions as bce
    except ImportError:  # a role without boto3 cannot have raised botocore's errors
        return None
    if isinstance(exc, bce.ProfileNotFound):
        return f"AWS profile not found: {exc.kwargs.get('profile')} (aws configure --profile NAME makes one)", CONFIG_EXIT
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        return f"no AWS credentials found: configure a profile and pass --profile P; {LOCAL_STACK_HINT}", CONFIG_EXIT
    if isinstance(exc, (bce.TokenRetrievalError, bce.SSOTokenLoadError, bce.UnauthorizedSSOTokenError)):
        return "your AWS session has expired: sign in again (e.g. aws sso login --profile P)", CONFIG_EXIT
    if isinstance(exc, bce.NoRegionError):
        return "no AWS region set: pass --region R or set AWS_REGION", CONFIG_EXIT
    if isinstance(exc, (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ReadTimeoutError)):
        url = str(exc.kwargs.get("endpoint_url", ""))
        if _is_local(url):
            return (f"cannot reach the emulator at {url}: is it running? Start it with "
                    "`docker compose up -d emulator` (or scripts/up --keep)"), UNREACHABLE_EXIT
        return f"cannot reach AWS at {url}: check the region and the network", UNREACHABLE_EXIT
    if isinstance(exc, bce.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _EXPIRED:
            return "your AWS credentials have expired: refresh them (e.g. aws sso login --profile P)", CONFIG_EXIT
        if code in _REJECTED:
            return f"AWS rejected the credentials ({code}): check the profile and keys; {LOCAL_STACK_HINT}", CONFIG_EXIT
    return None


def run_friendly(call: Callable[[], T]) -> T:
    """Run `call`; print known errors as one line on stderr and exit with their code."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - click's own exceptions are re-raised below
        # click (or typer's vendored copy) handles its own: usage errors, Exit, Abort.
        if any(cls.__name__ in _CLICK_OWN for cls in type(exc).__mro__):
            raise
        if isinstance(exc, BrokenPipeError):  # output piped into `head`: nothing to say
            raise SystemExit(0) from None
        known = describe(exc)
        if os.environ.get("FACEGATE_DEBUG") == "1":
            raise
        if known is None:
            message, code = f"unexpected error: {exc.__class__.__name__}: {exc}".splitlines()[0] + \
                " (FACEGATE_DEBUG=1 shows the traceback)", UNEXPECTED_EXIT
        else:
            message, code = known
        print(f"facegate: {message}", file=sys.stderr)
        raise SystemExit(code) from None

