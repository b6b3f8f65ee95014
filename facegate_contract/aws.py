"""The AWS sessions that reach a stack (boto3 is imported only when a session is made); their failed calls say
where they went."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ---- AWS sessions (boto3 is imported only when a session is made) ---------------------------------------------------
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
_CALL_KEY = "facegate.call"  # where a call's AwsCall waits in botocore's request context and error response
# The API parameters that name what a call acts on (names only: never a key's value or a body), in order of use.
_NAMED_BY = (("TableName", "table"), ("FunctionName", "function"), ("ApiId", "HTTP API"),
             ("logGroupName", "log group"), ("RoleName", "role"), ("repositoryName", "repository"))


@dataclass(frozen=True)
class AwsCall:
    """A failed AWS call of a facegate session: the stack it was for and what it asked (names, never secrets).

    Error messages need it to be true to the target: an endpoint boto3 was sent to by AWS_ENDPOINT_URL or a
    profile's endpoint_url is still AWS to us, and S3's bare "Access Denied" does not say which call it denied."""

    emulator: bool  # the stack is an emulator reached by endpoint URL (otherwise AWS, wherever boto3 was sent)
    where: str  # describe_stack(): "emulator URL, region R" or "AWS profile P, region R"
    region: str
    service: str  # the IAM action prefix: s3, dynamodb, lambda...
    operation: str  # GetObject, Query...
    resource: str  # what the call named ("table facegate-sightings", "object BUCKET/KEY"), or ""


def describe_stack(endpoint_url: str | None, profile: str | None, region: str) -> str:
    """A one-line, secret-free description of where a stack lives."""
    where = f"emulator {endpoint_url}" if endpoint_url else f"AWS profile {profile or '(default chain)'}"
    return f"{where}, region {region}"


def _named_resource(params: dict[str, Any]) -> str:
    bucket, key = params.get("Bucket"), params.get("Key")
    if isinstance(bucket, str):
        return f"object {bucket}/{key}" if isinstance(key, str) else f"bucket {bucket}"
    return next((f"{noun} {params[name]}" for name, noun in _NAMED_BY if isinstance(params.get(name), str)), "")


def _note_failed_calls(session: Any, endpoint_url: str | None, profile: str | None, region: str) -> None:
    """Have every client of `session` leave an AwsCall on its errors: on the exception when no answer came
    (connection errors), on the error response (`ClientError.response`) when one did."""
    where = describe_stack(endpoint_url, profile, region)

    def remember(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context[_CALL_KEY] = AwsCall(bool(endpoint_url), where, region, model.service_model.signing_name,
                                     model.name, _named_resource(params))

    def on_answer(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300 and _CALL_KEY in context:
            parsed[_CALL_KEY] = context[_CALL_KEY]  # botocore raises ClientError(parsed, ...) right after

    def on_no_answer(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        if _CALL_KEY in context:
            exception.facegate_call = context[_CALL_KEY]  # type: ignore[attr-defined]

    # Clients copy the session's handlers when made: these reach every client and resource of this session only.
    session.events.register("before-parameter-build", remember)
    session.events.register("after-call", on_answer)
    session.events.register("after-call-error", on_no_answer)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def failed_call(exc: BaseException) -> AwsCall | None:
    """The AwsCall a facegate session left on `exc`, or None (not an AWS error, or not from aws_session)."""
    call = getattr(exc, "facegate_call", None)
    response = getattr(exc, "response", None)
    if call is None and isinstance(response, dict):
        call = response.get(_CALL_KEY)
    return call if isinstance(call, AwsCall) else None


def aws_session(endpoint_url: str | None, profile: str | None, region: str) -> Any:
    """A boto3 session for a stack: a named profile or the default chain; emulators accept any credentials, so
    fixed test ones are used there when none are configured. Its failed calls say where they went (failed_call)."""
    import boto3

    session = boto3.Session(profile_name=profile, region_name=region)
    if endpoint_url and session.get_credentials() is None:
        session = boto3.Session(region_name=region, **EMULATOR_CREDENTIALS)
    _note_failed_calls(session, endpoint_url, profile, region)
    return session
