"""The recognizer Lambda's IAM role with a least-privilege inline policy.

Emulators do not enforce IAM, but the policy is written to be exactly right on real AWS (ARNs in the stack's
partition): read `people` and `devices`, write and tag `sightings`, read model artifacts (with ListBucket on the
models prefix only, so a missing pointer is a 404 and not a 403), sign clip uploads and links under `clips/`, write
its own logs.
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
    """Only the Lambda service may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }


def access_policy(names: StackNames) -> dict[str, Any]:
    """The inline policy document granting only what the handler does."""
    table = lambda name: names.arn("dynamodb", f"table/{name}")  # noqa: E731
    bucket = names.arn("s3", names.bucket, regional=False, account=False)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadPeopleAndDevices", "Effect": "Allow", "Action": ["dynamodb:GetItem"],
             "Resource": [table(names.people_table), table(names.devices_table)]},
            # PutItem per face; UpdateItem when a device reports which visit its sightings belong to.
            {"Sid": "RecordSightings", "Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"],
             "Resource": table(names.sightings_table)},
            {"Sid": "ReadModelArtifacts", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": f"{bucket}/{MODELS_PREFIX}*"},
            # Without ListBucket S3 answers 403 for a missing key; with it (models prefix only) a 404.
            {"Sid": "ListModelArtifacts", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket,
             "Condition": {"StringLike": {"s3:prefix": [f"{MODELS_PREFIX}*"]}}},
            # Presigned URLs act with the signer's rights: a device's upload (PUT) and alert link (GET) to its clip.
            {"Sid": "SignClipTransfers", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
             "Resource": f"{bucket}/{CLIPS_PREFIX}*"},
            {"Sid": "WriteOwnLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [names.arn("logs", f"log-group:{names.log_group}"),
                          names.arn("logs", f"log-group:{names.log_group}:*")]},
        ],
    }


def _policy_document(raw: Any) -> Any:
    # IAM returns documents URL-encoded on AWS and sometimes as dicts from emulators.
    return json.loads(unquote(raw)) if isinstance(raw, str) else raw


def role_arn(iam: Any, names: StackNames) -> str | None:
    """The role's ARN, or None when it does not exist."""
    try:
        return iam.get_role(RoleName=names.role)["Role"]["Arn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchEntity":
            return None
        raise


def ensure_role(iam: Any, names: StackNames) -> tuple[str, Change]:
    """Create the role and converge its trust and inline policies; returns (role ARN, change).

    A new role takes a few seconds before Lambda can assume it on real AWS: the function's create and update
    calls retry on exactly that error (recognizer_function), instead of a fixed sleep here.
    """
    arn = role_arn(iam, names)
    created = arn is None
    updated: list[str] = []
    if created:
        arn = iam.create_role(RoleName=names.role, AssumeRolePolicyDocument=json.dumps(trust_policy()),
                              Description="facegate recognizer Lambda execution role")["Role"]["Arn"]
    else:
        current_trust = _policy_document(iam.get_role(RoleName=names.role)["Role"].get("AssumeRolePolicyDocument"))
        if current_trust != trust_policy():
            iam.update_assume_role_policy(RoleName=names.role, PolicyDocument=json.dumps(trust_policy()))
            updated.append("trust policy")
    wanted = access_policy(names)
    try:
        current = _policy_document(
            iam.get_role_policy(RoleName=names.role, PolicyName=names.role_policy)["PolicyDocument"])
    except ClientError:
        current = None
    if current != wanted:
        iam.put_role_policy(RoleName=names.role, PolicyName=names.role_policy, PolicyDocument=json.dumps(wanted))
        updated.append("access policy")
    assert arn is not None
    if created:
        return arn, Change("iam role", names.role, Action.CREATED, "least-privilege inline policy")
    if updated:
        return arn, Change("iam role", names.role, Action.UPDATED, ", ".join(updated) + " converged")
    return arn, Change("iam role", names.role, Action.UNCHANGED)


def delete_role(iam: Any, names: StackNames) -> Change:
    """Delete the inline policy and the role."""
    if role_arn(iam, names) is None:
        return Change("iam role", names.role, Action.ABSENT)
    for policy in iam.list_role_policies(RoleName=names.role).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=names.role, PolicyName=policy)
    iam.delete_role(RoleName=names.role)
    return Change("iam role", names.role, Action.DELETED)
