"""The S3 bucket for clips and model artifacts: private, encrypted, TLS only, clips expire after a retention period."""
from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from facegate_contract import CLIPS_PREFIX, error_code
from services.changes import Action, Change

DEFAULT_RETENTION_DAYS = 30

_ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]}
_PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _lifecycle(retention_days: int) -> dict[str, Any]:
    return {
        "Rules": [
            {
                "ID": "expire-clips",
                "Status": "Enabled",
                "Filter": {"Prefix": CLIPS_PREFIX},
                "Expiration": {"Days": retention_days},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            }
        ]
    }


def tls_only_policy(bucket_arn: str) -> dict[str, Any]:
    """Refuse every request that does not come over TLS (emulators ignore it; AWS enforces it)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


class BucketNotEmptied(RuntimeError):
    """Objects that S3 refused to delete (a DeleteObjects batch answers 200 and lists them as errors)."""

    friendly = True
    exit_code = 2


def _delete_batch(s3: Any, bucket: str, objects: list[dict[str, str]]) -> None:
    errors = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True}).get("Errors") or []
    if errors:
        first = errors[0]
        raise BucketNotEmptied(f"S3 refused to delete {len(errors)} object(s) of s3://{bucket} (first: "
                               f"{first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".rstrip() + ")")


def _current_policy(s3: Any, bucket: str) -> Any:
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except (ClientError, ValueError):
        return None


def bucket_exists(s3: Any, bucket: str) -> bool:
    """True when `bucket` exists and is ours to use."""
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise


def _current_encryption(s3: Any, bucket: str) -> Any:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        return [r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules]
    except ClientError:
        return None


def _current_lifecycle(s3: Any, bucket: str) -> Any:
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        return [(r.get("ID"), r.get("Status"), r.get("Expiration", {}).get("Days")) for r in rules]
    except ClientError:
        return None


def _current_public_access_block(s3: Any, bucket: str) -> Any:
    try:
        return s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError:
        return None


def ensure_bucket(s3: Any, bucket: str, region: str, bucket_arn: str,
                  retention_days: int = DEFAULT_RETENTION_DAYS) -> Change:
    """Create or converge the bucket; returns what changed."""
    created = False
    if not bucket_exists(s3, bucket):
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":  # us-east-1 rejects an explicit location constraint
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        created = True

    updated: list[str] = []
    if _current_public_access_block(s3, bucket) != _PUBLIC_ACCESS_BLOCK:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=_PUBLIC_ACCESS_BLOCK)
        updated.append("public-access-block")
    if _current_encryption(s3, bucket) != ["AES256"]:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=_ENCRYPTION)
        updated.append("encryption")
    if _current_lifecycle(s3, bucket) != [("expire-clips", "Enabled", retention_days)]:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=_lifecycle(retention_days))
        updated.append("lifecycle")
    if _current_policy(s3, bucket) != tls_only_policy(bucket_arn):
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only_policy(bucket_arn)))
        updated.append("TLS-only policy")

    if created:
        return Change("s3 bucket", bucket, Action.CREATED, f"TLS only, clips expire after {retention_days} days")
    if updated:
        return Change("s3 bucket", bucket, Action.UPDATED, ", ".join(updated))
    return Change("s3 bucket", bucket, Action.UNCHANGED)


def delete_bucket(s3: Any, bucket: str) -> Change:
    """Empty (every version) and delete the bucket."""
    if not bucket_exists(s3, bucket):
        return Change("s3 bucket", bucket, Action.ABSENT)
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if doomed:
            _delete_batch(s3, bucket, doomed)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            _delete_batch(s3, bucket, keys)
    s3.delete_bucket(Bucket=bucket)
    return Change("s3 bucket", bucket, Action.DELETED)
