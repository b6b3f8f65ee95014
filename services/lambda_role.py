"""The functions' IAM roles, each with a least-privilege inline policy.

Emulators do not enforce IAM, but the policies are written to be exactly right on real AWS (ARNs in the stack's
partition). The recognizer reads `people` and `devices`, writes `sightings`, reads the model artifacts (with
ListBucket on the models prefix only, so a missing pointer is a 404 and not a 403) and writes its logs. The control
function reads `devices`, writes and tags `sightings` (visit reports), signs clip uploads and links under `clips/`
and writes its logs. Neither can do what the other does.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from facegate_contract import CLIPS_PREFIX, MODELS_PREFIX
from services.changes import Action, Change
from services.names import StackNames


def trust_policy() -> dict[str, Any]:
    """Only the Lambda service may assume the roles."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }


def _table(names: StackNames, table: str) -> str:
    return names.arn("dynamodb", f"table/{table}")


def _logs(names: StackNames, group: str) -> dict[str, Any]:
    return {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [names.arn("logs", f"log-group:{group}"), names.arn("logs", f"log-group:{group}:*")]}


def _bucket(names: StackNames) -> str:
    return names.arn("s3", names.bucket, regional=False, account=False)


def access_policy(names: StackNames) -> dict[str, Any]:
    """The recognizer's inline policy: only what recognition does."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadPeopleAndDevices", "Effect": "Allow", "Action": ["dynamodb:GetItem"],
             "Resource": [_table(names, names.people_table), _table(names, names.devices_table)]},
            {"Sid": "RecordSightings", "Effect": "Allow", "Action": ["dynamodb:PutItem"],
             "Resource": _table(names, names.sightings_table)},
            {"Sid": "ReadModelArtifacts", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": f"{_bucket(names)}/{MODELS_PREFIX}*"},
            # Without ListBucket S3 answers 403 for a missing key; with it (models prefix only) a 404.
            {"Sid": "ListModelArtifacts", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": _bucket(names),
             "Condition": {"StringLike": {"s3:prefix": [f"{MODELS_PREFIX}*"]}}},
            _logs(names, names.log_group),
        ],
    }


def control_policy(names: StackNames) -> dict[str, Any]:
    """The control function's inline policy: sign clip transfers, keep visit reports."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadDevices", "Effect": "Allow", "Action": ["dynamodb:GetItem"],
             "Resource": _table(names, names.devices_table)},
            # A visit summary item (PutItem), and its visit id on the device's own sightings (UpdateItem).
            # ...and door requests (confirm mode): filed (PutItem) and polled (GetItem) by their device; footage
            # requests: a device's open ones read (Query, one day of the `#footage` partition) and answered.
            {"Sid": "RecordVisits", "Effect": "Allow",
             "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query"],
             "Resource": _table(names, names.sightings_table)},
            # Presigned URLs act with the signer's rights: a device's upload (PUT) and alert link (GET) to its clip.
            {"Sid": "SignClipTransfers", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
             "Resource": f"{_bucket(names)}/{CLIPS_PREFIX}*"},
            _logs(names, names.control_log_group),
        ],
    }


def _policy_document(raw: Any) -> Any:
    # IAM returns documents URL-encoded on AWS and sometimes as dicts from emulators.
    return json.loads(unquote(raw)) if isinstance(raw, str) else raw


def role_arn(iam: Any, role: str) -> str | None:
    """The role's ARN, or None when it does not exist."""
    try:
        return iam.get_role(RoleName=role)["Role"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchEntity":
            return None
        raise


def ensure_role(iam: Any, role: str, policy_name: str, policy: dict[str, Any]) -> tuple[str, Change]:
    """Create the role and converge its trust and inline policies; returns (role ARN, change).

    A new role takes a few seconds before Lambda can assume it on real AWS: the function's create and update
    calls retry on exactly that error (recognizer_function), instead of a fixed sleep here.
    """
    arn = role_arn(iam, role)
    created = arn is None
    updated: list[str] = []
    if created:
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust_policy()),
                              Description="facegate Lambda execution role")["Role"]["Arn"]
    elif _policy_document(iam.get_role(RoleName=role)["Role"].get("AssumeRolePolicyDocument")) != trust_policy():
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust_policy()))
        updated.append("trust policy")
    try:
        current = _policy_document(iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"])
    except ClientError:
        current = None
    if current != policy:
        iam.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
        updated.append("access policy")
    assert arn is not None
    if created:
        return arn, Change("iam role", role, Action.CREATED, "least-privilege inline policy")
    if updated:
        return arn, Change("iam role", role, Action.UPDATED, ", ".join(updated) + " converged")
    return arn, Change("iam role", role, Action.UNCHANGED)


def delete_role(iam: Any, role: str) -> Change:
    """Delete the inline policies and the role."""
    if role_arn(iam, role) is None:
        return Change("iam role", role, Action.ABSENT)
    for policy in iam.list_role_policies(RoleName=role).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=role, PolicyName=policy)
    iam.delete_role(RoleName=role)
    return Change("iam role", role, Action.DELETED)
