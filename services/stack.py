"""Deploy, destroy and inspect a whole facegate stack; the same calls for an emulator and AWS."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facegate_contract import MODELS_PREFIX, StackOutputs
from services import clip_bucket, lambda_role, log_group, recognizer_function, recognizer_image, rest_api, tables
from services.changes import Change
from services.names import StackNames
from services.people_seed import load_people, seed_people
from services.target import Target

_PERMISSION_ID = "facegate-apigateway-invoke"


@dataclass
class DeployOptions:
    """Knobs of one deploy."""

    prefix: str = "facegate"
    image: str = recognizer_image.DEFAULT_LOCAL_IMAGE
    retention_days: int = clip_bucket.DEFAULT_RETENTION_DAYS
    seed_file: Path | None = None
    seed: bool = True
    public_endpoint_url: str | None = None
    extra_environment: dict[str, str] = field(default_factory=dict)


@dataclass
class DeployResult:
    """What a deploy did and what clients need."""

    changes: list[Change]
    outputs: StackOutputs


def function_environment(names: StackNames, extra: dict[str, str]) -> dict[str, str]:
    """Environment of the recognizer Lambda: where its data lives."""
    env = {
        "FACEGATE_PEOPLE_TABLE": names.people_table,
        "FACEGATE_SIGHTINGS_TABLE": names.sightings_table,
        "FACEGATE_MODEL_BUCKET": names.bucket,
        "FACEGATE_MODEL_PREFIX": MODELS_PREFIX,
    }
    env.update(extra)
    return env


def deploy(target: Target, options: DeployOptions) -> DeployResult:
    """Converge every resource; each step is idempotent and reports what it changed."""
    names = StackNames.for_target(target, options.prefix)
    changes: list[Change] = []

    changes.append(clip_bucket.ensure_bucket(target.client("s3"), names.bucket, target.region, options.retention_days))
    dynamodb = target.client("dynamodb")
    changes.append(tables.ensure_table(dynamodb, tables.people_table(names.people_table)))
    changes.append(tables.ensure_table(dynamodb, tables.sightings_table(names.sightings_table)))
    if options.seed:
        changes.append(seed_people(target.resource("dynamodb"),
                                   names.people_table, load_people(options.seed_file)))
    changes.append(log_group.ensure_log_group(target.client("logs"), names.log_group))
    role_arn, change = lambda_role.ensure_role(target.client("iam"), names,
                                               propagation_delay_s=0.0 if target.is_emulator else 10.0)
    changes.append(change)

    if target.is_emulator:
        image = recognizer_image.resolve_local(options.image)
    else:
        image, change = recognizer_image.ensure_ecr_image(target.client("ecr"), names.ecr_repository, options.image)
        changes.append(change)

    lam = target.client("lambda")
    spec = recognizer_function.FunctionSpec(
        name=names.function, image_uri=image.uri, role_arn=role_arn,
        environment=function_environment(names, options.extra_environment),
    )
    function_arn, change = recognizer_function.ensure_function(lam, spec)
    changes.append(change)

    apigw = target.client("apigateway")
    api, api_changes = rest_api.ensure_rest_api(apigw, names, function_arn)
    changes.extend(api_changes)
    changes.append(recognizer_function.ensure_invoke_permission(
        lam, names.function, _PERMISSION_ID, rest_api.method_source_arn(names, api.api_id)))

    outputs = StackOutputs.build(
        region=target.region, endpoint_url=target.endpoint_url, api_id=api.api_id, stage=api.stage,
        api_key=api.api_key, bucket=names.bucket, people_table=names.people_table,
        sightings_table=names.sightings_table, function_name=names.function,
    ).seen_from(options.public_endpoint_url)
    return DeployResult(changes=changes, outputs=outputs)


def seed(target: Target, prefix: str = "facegate", seed_file: Path | None = None) -> Change:
    """(Re)write the people records from the seed file."""
    names = StackNames.for_target(target, prefix)
    return seed_people(target.resource("dynamodb"),
                       names.people_table, load_people(seed_file))


def destroy(target: Target, prefix: str = "facegate") -> list[Change]:
    """Delete every resource of the stack, API first so nothing can invoke a half-deleted function."""
    names = StackNames.for_target(target, prefix)
    changes = rest_api.delete_rest_api(target.client("apigateway"), names)
    changes.append(recognizer_function.delete_function(target.client("lambda"), names.function))
    changes.append(lambda_role.delete_role(target.client("iam"), names))
    changes.append(log_group.delete_log_group(target.client("logs"), names.log_group))
    dynamodb = target.client("dynamodb")
    changes.append(tables.delete_table(dynamodb, names.people_table))
    changes.append(tables.delete_table(dynamodb, names.sightings_table))
    changes.append(clip_bucket.delete_bucket(target.client("s3"), names.bucket))
    if not target.is_emulator:
        changes.append(recognizer_image.delete_ecr_repository(target.client("ecr"), names.ecr_repository))
    return changes


def status(target: Target, prefix: str = "facegate") -> list[dict[str, Any]]:
    """Which resources exist, with a short detail each."""
    names = StackNames.for_target(target, prefix)
    rows: list[dict[str, Any]] = []

    def row(kind: str, name: str, present: bool, detail: str = "") -> None:
        rows.append({"kind": kind, "name": name, "present": present, "detail": detail})

    row("s3 bucket", names.bucket, clip_bucket.bucket_exists(target.client("s3"), names.bucket))
    dynamodb = target.client("dynamodb")
    for table in (names.people_table, names.sightings_table):
        present = table in dynamodb.list_tables().get("TableNames", [])
        count = dynamodb.describe_table(TableName=table)["Table"].get("ItemCount", 0) if present else 0
        row("dynamodb table", table, present, f"{count} items" if present else "")
    row("iam role", names.role, lambda_role.role_arn(target.client("iam"), names) is not None)
    fn = recognizer_function.get_function(target.client("lambda"), names.function)
    row("lambda function", names.function, fn is not None,
        fn["Code"].get("ImageUri", "") if fn else "")
    api = rest_api.find_api(target.client("apigateway"), names.rest_api)
    row("rest api", names.rest_api, api is not None,
        rest_api.stage_url(api["id"], names.stage, target.region, target.endpoint_url) if api else "")
    return rows


def leftovers(target: Target, prefix: str = "facegate") -> list[str]:
    """Names of stack resources that still exist (empty after a clean destroy)."""
    return [f"{r['kind']} {r['name']}" for r in status(target, prefix) if r["present"]]

