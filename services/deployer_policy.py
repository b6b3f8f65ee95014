"""The least-privilege IAM policy for whoever runs the stack commands on AWS (deploy, destroy, status, seed,
device, sightings, enroll, publish, people, forget, console).

Every statement is limited to the stack's own resources by its name prefix; the wildcards that remain are the
ones AWS allows no narrower resource for (ecr:GetAuthorizationToken, logs:DescribeLogGroups) and the API
Gateway paths, whose ids AWS chooses. `iam:PassRole` only hands the stack's roles to Lambda.

The file `services/data/deployer-policy.json` is this module's output for the default prefix, any account and
any region of the `aws` partition (a unit test keeps the two equal). For another prefix, partition, account or
region: `python -m services.deployer_policy --prefix P --partition aws-cn --account 123456789012 --region R`.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

POLICY_FILE = Path(__file__).parent / "data" / "deployer-policy.json"

# Grouped by service; every name is a real IAM action (no wildcards in actions).
S3_BUCKET_ACTIONS = ["s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:ListBucketVersions",
                     "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetEncryptionConfiguration",
                     "s3:PutEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration",
                     "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"]
S3_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
DYNAMODB_ACTIONS = ["dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable",
                    "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive", "dynamodb:GetItem", "dynamodb:PutItem",
                    "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
                    "dynamodb:Scan"]
IAM_ROLE_ACTIONS = ["iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy",
                    "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies"]
LOGS_GROUP_ACTIONS = ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy"]
ECR_REPOSITORY_ACTIONS = ["ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:DeleteRepository",
                          "ecr:GetLifecyclePolicy", "ecr:PutLifecyclePolicy", "ecr:GetRepositoryPolicy",
                          "ecr:SetRepositoryPolicy", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                          # docker push
                          "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                          "ecr:CompleteLayerUpload", "ecr:PutImage"]
LAMBDA_ACTIONS = ["lambda:CreateFunction", "lambda:GetFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode",
                  "lambda:UpdateFunctionConfiguration", "lambda:GetFunctionConcurrency",
                  "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:AddPermission",
                  "lambda:RemovePermission", "lambda:GetPolicy"]
# API Gateway's IAM actions are the HTTP methods of its management API, on resource paths.
APIGATEWAY_ACTIONS = ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"]
APIGATEWAY_PATHS = ["/apis", "/apis/*"]  # an HTTP API with its routes, integrations and stages


def deployer_policy(prefix: str = "facegate", partition: str = "aws", account: str = "*",
                    region: str = "*") -> dict[str, Any]:
    """The policy document for the deployer of the `prefix` stack."""
    def arn(service: str, resource: str, *, in_region: bool = True, in_account: bool = True) -> str:
        return f"arn:{partition}:{service}:{region if in_region else ''}:{account if in_account else ''}:{resource}"

    # The bucket is `{prefix}-{account}-{region}`; the ECR repository `{prefix}/recognizer`.
    bucket = arn("s3", f"{prefix}-*", in_region=False, in_account=False)
    roles = arn("iam", f"role/{prefix}-*", in_region=False)
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Bucket", "Effect": "Allow", "Action": S3_BUCKET_ACTIONS, "Resource": bucket},
        {"Sid": "BucketObjects", "Effect": "Allow", "Action": S3_OBJECT_ACTIONS, "Resource": f"{bucket}/*"},
        {"Sid": "Tables", "Effect": "Allow", "Action": DYNAMODB_ACTIONS,
         "Resource": [arn("dynamodb", f"table/{prefix}-*"), arn("dynamodb", f"table/{prefix}-*/index/*")]},
        {"Sid": "FunctionRoles", "Effect": "Allow", "Action": IAM_ROLE_ACTIONS, "Resource": roles},
        {"Sid": "PassFunctionRolesToLambda", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": roles,
         "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
        {"Sid": "FunctionLogGroups", "Effect": "Allow", "Action": LOGS_GROUP_ACTIONS,
         "Resource": arn("logs", f"log-group:/aws/lambda/{prefix}-*")},
        # DescribeLogGroups is authorised on the account's log groups as a whole.
        {"Sid": "ListLogGroups", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"],
         "Resource": arn("logs", "log-group:*")},
        {"Sid": "ImageRepository", "Effect": "Allow", "Action": ECR_REPOSITORY_ACTIONS,
         "Resource": arn("ecr", f"repository/{prefix}/*")},
        # The registry login token has no resource of its own.
        {"Sid": "RegistryLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {"Sid": "Functions", "Effect": "Allow", "Action": LAMBDA_ACTIONS,
         "Resource": arn("lambda", f"function:{prefix}-*")},
        {"Sid": "HttpApi", "Effect": "Allow", "Action": APIGATEWAY_ACTIONS,
         "Resource": [arn("apigateway", path, in_account=False) for path in APIGATEWAY_PATHS]},
    ]}


def render(policy: dict[str, Any]) -> str:
    """The policy as the shipped file spells it (indented, one trailing newline)."""
    return json.dumps(policy, indent=2) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print the deployer policy for a prefix, partition, account and region."""
    parser = argparse.ArgumentParser(prog="python -m services.deployer_policy", description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="facegate")
    parser.add_argument("--partition", default="aws", help="aws, aws-cn or aws-us-gov")
    parser.add_argument("--account", default="*", help="the 12-digit account id (default any)")
    parser.add_argument("--region", default="*", help="the stack's region (default any)")
    args = parser.parse_args(argv)
    print(render(deployer_policy(args.prefix, args.partition, args.account, args.region)), end="")


if __name__ == "__main__":
    main()
