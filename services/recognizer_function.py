"""The recognizer Lambda: PackageType=Image, converged to the wanted image and configuration."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from services.changes import Action, Change


@dataclass(frozen=True)
class FunctionSpec:
    """What the function should look like."""

    name: str
    image_uri: str
    role_arn: str
    environment: dict[str, str] = field(default_factory=dict)
    # Real Lambda gives CPU in proportion to memory: 2048 MB is enough for ~1.2 vCPU.
    memory_mb: int = 2048
    timeout_s: int = 30

    def configuration(self) -> dict[str, Any]:
        return {
            "Role": self.role_arn,
            "Timeout": self.timeout_s,
            "MemorySize": self.memory_mb,
            "Environment": {"Variables": dict(self.environment)},
        }


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
    drift = []
    for key in ("Role", "Timeout", "MemorySize"):
        if current.get(key) != wanted[key]:
            drift.append(key)
    if (current.get("Environment") or {}).get("Variables", {}) != wanted["Environment"]["Variables"]:
        drift.append("Environment")
    return drift


def ensure_function(lam: Any, spec: FunctionSpec) -> tuple[str, Change]:
    """Create or converge the function; returns (function ARN, change)."""
    found = get_function(lam, spec.name)
    if found is None:
        created = lam.create_function(
            FunctionName=spec.name,
            PackageType="Image",
            Code={"ImageUri": spec.image_uri},
            Description="facegate recognizer: detect, embed and classify faces",
            Publish=False,
            **spec.configuration(),
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
        return created["FunctionArn"], Change("lambda function", spec.name, Action.CREATED, spec.image_uri)

    config = found["Configuration"]
    updates: list[str] = []
    if found.get("Code", {}).get("ImageUri") != spec.image_uri:
        lam.update_function_code(FunctionName=spec.name, ImageUri=spec.image_uri)
        _wait_updated(lam, spec.name)
        updates.append(f"image {spec.image_uri}")
    drift = _config_drift(config, spec)
    if drift:
        lam.update_function_configuration(FunctionName=spec.name, **spec.configuration())
        _wait_updated(lam, spec.name)
        updates.append("configuration (" + ", ".join(drift) + ")")
    action = Action.UPDATED if updates else Action.UNCHANGED
    return config["FunctionArn"], Change("lambda function", spec.name, action, "; ".join(updates))


def ensure_invoke_permission(lam: Any, function: str, statement_id: str, source_arn: str) -> Change:
    """Allow API Gateway (only this API's method) to invoke the function."""
    try:
        policy = lam.get_policy(FunctionName=function)["Policy"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        policy = ""
    if statement_id in policy and source_arn in policy:
        return Change("lambda permission", statement_id, Action.UNCHANGED)
    if statement_id in policy:
        lam.remove_permission(FunctionName=function, StatementId=statement_id)
    lam.add_permission(
        FunctionName=function,
        StatementId=statement_id,
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=source_arn,
    )
    return Change("lambda permission", statement_id, Action.CREATED, source_arn)


def delete_function(lam: Any, name: str) -> Change:
    """Delete the function."""
    if get_function(lam, name) is None:
        return Change("lambda function", name, Action.ABSENT)
    lam.delete_function(FunctionName=name)
    return Change("lambda function", name, Action.DELETED)
