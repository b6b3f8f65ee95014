"""The recognizer Lambda: PackageType=Image, converged to the wanted image, architecture and configuration."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from services.changes import Action, Change

log = logging.getLogger(__name__)
T = TypeVar("T")

# API Gateway ends an integration at 29 s: the function must give up first, so the client gets our JSON error.
API_GATEWAY_LIMIT_S = 29
DEFAULT_TIMEOUT_S = 25
# Lambda gives CPU in proportion to memory, one vCPU at 1,769 MB. The handler runs one thread: below this size
# a frame costs the same GB-seconds but answers slower, above it the extra CPU idles and the price per frame
# rises (scripts/bench/memory.py measures it; the handler peaks under 200 MB).
RECOGNIZER_MEMORY_MB = 1769
ROLE_NOT_READY = "cannot be assumed by Lambda"  # IAM propagation: the new role is not visible to Lambda yet


@dataclass(frozen=True)
class FunctionSpec:
    """What the function should look like."""

    name: str
    image_uri: str
    role_arn: str
    architecture: str = "x86_64"  # x86_64 | arm64, read from the image
    environment: dict[str, str] = field(default_factory=dict)
    memory_mb: int = RECOGNIZER_MEMORY_MB
    timeout_s: int = DEFAULT_TIMEOUT_S
    # None: the account's unreserved pool (AWS scales out). An emulator runs every container on one machine:
    # more at once than it has cores only thrashes, so deploy reserves about that many there.
    reserved_concurrency: int | None = None
    command: tuple[str, ...] | None = None  # the image's CMD for this function (the control function's handler)
    description: str = "facegate recognizer: detect, embed and classify faces"  # what the Lambda console shows

    def __post_init__(self) -> None:
        if not 1 <= self.timeout_s < API_GATEWAY_LIMIT_S:
            raise ValueError(f"timeout {self.timeout_s} s: keep it under API Gateway's {API_GATEWAY_LIMIT_S} s")

    def configuration(self) -> dict[str, Any]:
        """The UpdateFunctionConfiguration arguments (the architecture goes with the code)."""
        config = {"Role": self.role_arn, "Timeout": self.timeout_s, "MemorySize": self.memory_mb,
                  "Description": self.description, "Environment": {"Variables": dict(self.environment)}}
        if self.command:
            config["ImageConfig"] = {"Command": list(self.command)}
        return config


def retry_while_role_propagates(call: Callable[[], T], attempts: int = 10, first_delay_s: float = 1.0,
                                sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `call`, retrying with backoff only while Lambda says the (new) role cannot be assumed yet."""
    delay = first_delay_s
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if (error.get("Code") != "InvalidParameterValueException" or ROLE_NOT_READY not in error.get("Message", "")
                    or attempt == attempts):
                raise
            log.info("role not assumable yet; retrying", extra={"attempt": attempt, "retry_in_s": delay})
            sleep(delay)
            delay = min(delay * 2, 10.0)
    raise AssertionError("unreachable")  # pragma: no cover


def get_function(lam: Any, name: str) -> dict[str, Any] | None:
    """The function as GetFunction reports it, or None."""
    try:
        return lam.get_function(FunctionName=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def _wait_updated(lam: Any, name: str) -> None:
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})


def _config_drift(current: dict[str, Any], spec: FunctionSpec) -> list[str]:
    wanted = spec.configuration()
    drift = [key for key in ("Role", "Timeout", "MemorySize", "Description") if current.get(key, "") != wanted[key]]
    if (current.get("Environment") or {}).get("Variables", {}) != wanted["Environment"]["Variables"]:
        drift.append("Environment")
    command = ((current.get("ImageConfigResponse") or {}).get("ImageConfig") or {}).get("Command")
    if (command or None) != (wanted.get("ImageConfig") or {}).get("Command"):
        drift.append("ImageConfig")
    return drift


def ensure_function(lam: Any, spec: FunctionSpec, sleep: Callable[[float], None] = time.sleep) -> tuple[str, Change]:
    """Create or converge the function; returns (function ARN, change)."""
    found = get_function(lam, spec.name)
    if found is None:
        created = retry_while_role_propagates(lambda: lam.create_function(
            FunctionName=spec.name, PackageType="Image", Code={"ImageUri": spec.image_uri},
            Architectures=[spec.architecture], Publish=False, **spec.configuration()), sleep=sleep)
        lam.get_waiter("function_active_v2").wait(FunctionName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
        concurrency = ensure_concurrency(lam, spec.name, spec.reserved_concurrency)
        return created["FunctionArn"], Change("lambda function", spec.name, Action.CREATED,
                                              f"{spec.image_uri} ({spec.architecture})" + (f"; {concurrency}" if concurrency else ""))

    config = found["Configuration"]
    updates: list[str] = []
    architectures = config.get("Architectures") or ["x86_64"]
    if found.get("Code", {}).get("ImageUri") != spec.image_uri or architectures != [spec.architecture]:
        lam.update_function_code(FunctionName=spec.name, ImageUri=spec.image_uri, Architectures=[spec.architecture])
        _wait_updated(lam, spec.name)
        updates.append(f"image {spec.image_uri} ({spec.architecture})")
    drift = _config_drift(config, spec)
    if drift:
        retry_while_role_propagates(
            lambda: lam.update_function_configuration(FunctionName=spec.name, **spec.configuration()), sleep=sleep)
        _wait_updated(lam, spec.name)
        updates.append("configuration (" + ", ".join(drift) + ")")
    concurrency = ensure_concurrency(lam, spec.name, spec.reserved_concurrency)
    if concurrency:
        updates.append(concurrency)
    action = Action.UPDATED if updates else Action.UNCHANGED
    return config["FunctionArn"], Change("lambda function", spec.name, action, "; ".join(updates))


def ensure_concurrency(lam: Any, name: str, reserved: int | None) -> str:
    """Converge the function's reserved concurrency; returns what changed ("" when nothing did)."""
    current = lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
    if current == reserved:
        return ""
    if reserved is None:
        lam.delete_function_concurrency(FunctionName=name)
        return "reserved concurrency removed"
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    return f"reserved concurrency {reserved}"


def _permission_statement(lam: Any, function: str, statement_id: str) -> dict[str, Any] | None:
    try:
        policy = json.loads(lam.get_policy(FunctionName=function)["Policy"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return None
    return next((s for s in policy.get("Statement", []) if s.get("Sid") == statement_id), None)


def ensure_invoke_permission(lam: Any, function: str, statement_id: str, source_arn: str) -> Change:
    """Allow API Gateway (only this API's methods) to invoke the function."""
    statement = _permission_statement(lam, function, statement_id)
    if statement is not None and source_arn in str(statement.get("Condition", "")):
        return Change("lambda permission", statement_id, Action.UNCHANGED)
    if statement is not None:
        lam.remove_permission(FunctionName=function, StatementId=statement_id)
    lam.add_permission(FunctionName=function, StatementId=statement_id, Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com", SourceArn=source_arn)
    return Change("lambda permission", statement_id, Action.CREATED if statement is None else Action.UPDATED,
                  source_arn)


def permission_exists(lam: Any, function: str, statement_id: str) -> bool:
    """True when the function's policy has the statement (False when the function is gone)."""
    try:
        return _permission_statement(lam, function, statement_id) is not None
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise


def delete_function(lam: Any, name: str) -> Change:
    """Delete the function (its permissions go with it)."""
    if get_function(lam, name) is None:
        return Change("lambda function", name, Action.ABSENT)
    lam.delete_function(FunctionName=name)
    return Change("lambda function", name, Action.DELETED)
