"""The recognizer Lambda's IAM role with a least-privilege inline policy.

Emulators do not enforce IAM, but the policy is written to be exactly right on real AWS:
read `people`, write `sightings`, read the model artifacts, write its own logs.
"""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from services.changes import Action, Change
from facegate_contract import MODELS_PREFIX
from services.names import StackNames

_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def access_policy(names: StackNames) -> dict[str, Any]:
    """The inline policy document granting only what the handler does."""
    arn = f"arn:aws:%s:{names.region}:{names.account_id}:%s"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadPeople",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": arn % ("dynamodb", f"table/{names.people_table}"),
            },
            {
                "Sid": "RecordSightings",
                "Effect": "Allow",
                "Action": ["dynamodb:PutItem"],
                "Resource": arn % ("dynamodb", f"table/{names.sightings_table}"),
            },
            {
                "Sid": "ReadModelArtifacts",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": f"arn:aws:s3:::{names.bucket}/{MODELS_PREFIX}*",
            },
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [
                    arn % ("logs", f"log-group:{names.log_group}"),
                    arn % ("logs", f"log-group:{names.log_group}:*"),
                ],
            },
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


def ensure_role(iam: Any, names: StackNames, propagation_delay_s: float = 0.0) -> tuple[str, Change]:
    """Create the role and converge its inline policy; returns (role ARN, change).

    `propagation_delay_s`: real IAM needs a few seconds before Lambda can assume a new role.
    """
    arn = role_arn(iam, names)
    created = arn is None
    if created:
        arn = iam.create_role(
            RoleName=names.role,
            AssumeRolePolicyDocument=json.dumps(_TRUST_POLICY),
            Description="facegate recognizer Lambda execution role",
        )["Role"]["Arn"]
    wanted = access_policy(names)
    try:
        current = _policy_document(
            iam.get_role_policy(RoleName=names.role, PolicyName=names.role_policy)["PolicyDocument"]
        )
    except ClientError:
        current = None
    if current != wanted:
        iam.put_role_policy(RoleName=names.role, PolicyName=names.role_policy, PolicyDocument=json.dumps(wanted))
        if created:
            time.sleep(propagation_delay_s)
        else:
            return arn, Change("iam role", names.role, Action.UPDATED, "policy converged")
    if created:
        return arn, Change("iam role", names.role, Action.CREATED, "least-privilege inline policy")
    return arn, Change("iam role", names.role, Action.UNCHANGED)


def delete_role(iam: Any, names: StackNames) -> Change:
    """Delete the inline policy and the role."""
    if role_arn(iam, names) is None:
        return Change("iam role", names.role, Action.ABSENT)
    for policy in iam.list_role_policies(RoleName=names.role).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=names.role, PolicyName=policy)
    iam.delete_role(RoleName=names.role)
    return Change("iam role", names.role, Action.DELETED)
