"""The errors a new user meets first end in one clear line and an exit code, never a traceback.

Covered: no AWS credentials (with how to target the local stack instead), expired or rejected credentials, an
emulator or AWS endpoint that does not answer, a region that does not exist, a call AWS denied, a stack that is not
deployed, a missing outputs or device file, and a docker engine that is not running. Role packages mark their own
such errors with `friendly = True` (and an `exit_code`); botocore's are recognised here, importing botocore only once
an error has happened. Whether a failed call went to an emulator or to AWS is told by the session that made it
(facegate_contract.failed_call), never guessed from the URL: AWS_ENDPOINT_URL can send AWS calls anywhere.
`FACEGATE_DEBUG=1` shows the traceback of anything else.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from facegate_contract import AwsCall

from facegate_contract.settings import cli_settings

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
# "403"/"Forbidden": S3's answer to a HEAD request, which has no body to say more.
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
           "AuthorizationError", "AuthorizationErrorException", "Forbidden", "403"}
# What AWS answers for a table, bucket, API, function, role or repository that is not there.
_MISSING = {"ResourceNotFoundException", "NoSuchBucket", "NotFoundException", "NoSuchEntity",
            "RepositoryNotFoundException"}
_NOT_AUTHORIZED = re.compile(r'User: (?P<who>\S+?)\.? is not authorized to perform: (?P<action>[\w-]+:[\w*-]+)'
                             r'(?: on resource: "?(?P<resource>[^\s"]+?)"?\.?(?:\s|$))?')
# S3's bare "Access Denied" names no permission: these operations need another than their own name.
_S3_PERMISSION = {"HeadBucket": "ListBucket", "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket",
                  "HeadObject": "GetObject"}
DENIED_HINT = "attach the deployer policy (services/data/deployer-policy.json) or ask your AWS admin"


def _unreachable(url: str, call: AwsCall | None) -> str:
    """Advice for an endpoint that did not answer, by the target the call was for (not by the URL's host)."""
    if call is None:
        return f"cannot reach {url}: check the network and that the endpoint is up"
    if call.emulator:
        return (f"cannot reach the emulator at {url}: is it running? Start it with "
                "`docker compose up -d emulator` (or scripts/up --keep)")
    return (f"cannot reach AWS at {url} (region {call.region}): check the network, the region, and any "
            "AWS_ENDPOINT_URL or profile endpoint_url that sends boto3 elsewhere")


def _denied(exc: Any, call: AwsCall | None) -> str:
    """Which action on which resource was denied (and to whom), from AWS's message or else from the call."""
    said = _NOT_AUTHORIZED.search(str(exc.response.get("Error", {}).get("Message", "")))
    if said:
        action, resource, who = said["action"], said["resource"], said["who"]
    elif call is not None:
        operation = _S3_PERMISSION.get(call.operation, call.operation) if call.service == "s3" else call.operation
        action, resource, who = f"{call.service}:{operation}", call.resource, None
    else:
        action, resource, who = exc.operation_name, None, None
    denier, hint = ("the emulator", "check the policies it enforces") if call is not None and call.emulator else \
        ("AWS", DENIED_HINT)
    return f"{denier} denied {action}{f' on {resource}' if resource else ''}{f' (User: {who})' if who else ''}: {hint}"


def _missing(exc: Any, code: str, call: AwsCall | None) -> str:
    """A stack resource a command needs is not there: the same advice device commands give."""
    what = f"{call.resource} does not exist" if call is not None and call.resource else f"{exc.operation_name}: {code}"
    where = f" in {call.where}" if call is not None else ""
    return f"no facegate stack{where}: {what}; run `facegate deploy` first"


def describe(exc: BaseException) -> tuple[str, int] | None:
    """(one-line message, exit code) for an error a user can fix, or None for anything else."""
    if getattr(exc, "friendly", False):
        return str(exc).splitlines()[0], int(getattr(exc, "exit_code", CONFIG_EXIT))
    try:
        from botocore import exceptions as bce
    except ImportError:  # a role without boto3 cannot have raised botocore's errors
        return None
    from facegate_contract import failed_call
    if isinstance(exc, bce.ProfileNotFound):
        return f"AWS profile not found: {exc.kwargs.get('profile')} (aws configure --profile NAME makes one)", CONFIG_EXIT
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        return f"no AWS credentials found: configure a profile and pass --profile P; {LOCAL_STACK_HINT}", CONFIG_EXIT
    if isinstance(exc, (bce.TokenRetrievalError, bce.SSOTokenLoadError, bce.UnauthorizedSSOTokenError)):
        return "your AWS session has expired: sign in again (e.g. aws sso login --profile P)", CONFIG_EXIT
    if isinstance(exc, bce.NoRegionError):
        return "no AWS region set: pass --region R or set AWS_REGION", CONFIG_EXIT
    if isinstance(exc, (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ReadTimeoutError)):
        return _unreachable(str(exc.kwargs.get("endpoint_url", "")), failed_call(exc)), UNREACHABLE_EXIT
    if isinstance(exc, bce.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _EXPIRED:
            return "your AWS credentials have expired: refresh them (e.g. aws sso login --profile P)", CONFIG_EXIT
        if code in _REJECTED:
            return f"AWS rejected the credentials ({code}): check the profile and keys; {LOCAL_STACK_HINT}", CONFIG_EXIT
        if code in _DENIED:
            return _denied(exc, failed_call(exc)), CONFIG_EXIT
        if code in _MISSING:
            return _missing(exc, code, failed_call(exc)), CONFIG_EXIT
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
        if cli_settings().debug:
            raise
        if known is None:
            message, code = f"unexpected error: {exc.__class__.__name__}: {exc}".splitlines()[0] + \
                " (FACEGATE_DEBUG=1 shows the traceback)", UNEXPECTED_EXIT
        else:
            message, code = known
        print(f"facegate: {message}", file=sys.stderr)
        raise SystemExit(code) from None

