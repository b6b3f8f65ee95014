"""The Lambda's CloudWatch log group, created up front so retention is set (Lambda would create it unbounded)."""
from __future__ import annotations

from typing import Any

from services.changes import Action, Change

RETENTION_DAYS = 14


def _find(logs: Any, name: str) -> dict[str, Any] | None:
    groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
    return next((g for g in groups if g["logGroupName"] == name), None)


def ensure_log_group(logs: Any, name: str) -> Change:
    """Create the group and set its retention."""
    group = _find(logs, name)
    if group is None:
        logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=RETENTION_DAYS)
        return Change("log group", name, Action.CREATED, f"retention {RETENTION_DAYS} days")
    if group.get("retentionInDays") != RETENTION_DAYS:
        logs.put_retention_policy(logGroupName=name, retentionInDays=RETENTION_DAYS)
        return Change("log group", name, Action.UPDATED, f"retention {RETENTION_DAYS} days")
    return Change("log group", name, Action.UNCHANGED)


def delete_log_group(logs: Any, name: str) -> Change:
    """Delete the group."""
    if _find(logs, name) is None:
        return Change("log group", name, Action.ABSENT)
    logs.delete_log_group(logGroupName=name)
    return Change("log group", name, Action.DELETED)


def log_group_exists(logs: Any, name: str) -> bool:
    """True when the group exists."""
    return _find(logs, name) is not None
