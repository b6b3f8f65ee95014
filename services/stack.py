"""Deploy, destroy and inspect a whole facegate stack; the same calls for an emulator and AWS."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from facegate_contract import (ENV_BUCKET, ENV_DEVICES_TABLE, ENV_MODEL_PREFIX, ENV_PEOPLE_TABLE, ENV_PRESIGN_ENDPOINT,
                               ENV_RETENTION_DAYS, ENV_SIGHTINGS_TABLE, MODELS_PREFIX, PRESIGN_REQUEST_HOST,
                               RECOGNIZE_PATH, StackOutputs, stage_url)
from facegate_contract.settings import ENV_LOG_LEVEL, LOG_LEVELS
from services import (clip_bucket, console_login, device_registry, lambda_role, log_group, recognizer_function,
                      recognizer_image, http_api, tables)
from services.changes import Change
from services.names import StackNames
from services.people_seed import load_people, seed_people
from services.target import Target


FUNCTION_LOG_LEVEL = "WARNING"


@dataclass
class DeployOptions:
    """Knobs of one deploy."""

    prefix: str = "facegate"
    image: str = recognizer_image.DEFAULT_LOCAL_IMAGE
    retention_days: int = clip_bucket.DEFAULT_RETENTION_DAYS
    seed_file: Path | None = None
    seed: bool = True
    public_endpoint_url: str | None = None  # the emulator as clients (and the docker engine) reach it
    extra_environment: dict[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None  # None: AWS's unreserved pool; on an emulator, this machine's cores
    # The console's login: replaces a different stored one; None keeps the stored one (or generates the first).
    console_password: str | None = field(default=None, repr=False)
    # The functions' log level. WARNING: warnings and errors only, no line per request (CloudWatch Logs bills each
    # byte, and a line per frame was the largest part of a door's log bill; the sightings table has every answer).
    function_log_level: str = FUNCTION_LOG_LEVEL

    def __post_init__(self) -> None:
        if self.function_log_level not in LOG_LEVELS:  # a mistake is reported before anything is deployed
            raise ValueError(f"function log level {self.function_log_level!r}: use one of {', '.join(LOG_LEVELS)}")


CONTROL_HANDLER = "recognizer.control.handler.handler"
CONTROL_MEMORY_MB = 256  # presigning and small DynamoDB writes: no models


def reserved_concurrency(target: Target, options: DeployOptions) -> int | None:
    """What the function may run at once: as asked; on an emulator by default as many as the machine has cores
    (every Lambda container runs here: more only thrash, and the excess is throttled, which devices retry)."""
    if options.reserved_concurrency is not None or not target.is_emulator:
        return options.reserved_concurrency
    return max(1, os.cpu_count() or 1)


@dataclass
class DeployResult:
    """What a deploy did and what clients need."""

    changes: list[Change]
    outputs: StackOutputs
    # Set only when this deploy generated the console password: hand it to the developer once, privately.
    console_password: str | None = field(default=None, repr=False)


def function_environment(names: StackNames, options: DeployOptions, is_emulator: bool) -> dict[str, str]:
    """Environment of the recognizer Lambda: where its data lives (names from the wire contract)."""
    env = {
        ENV_PEOPLE_TABLE: names.people_table,
        ENV_SIGHTINGS_TABLE: names.sightings_table,
        ENV_DEVICES_TABLE: names.devices_table,
        ENV_BUCKET: names.bucket,
        ENV_MODEL_PREFIX: MODELS_PREFIX,
        ENV_RETENTION_DAYS: str(options.retention_days),
        ENV_LOG_LEVEL: options.function_log_level,
    }
    if is_emulator:
        # The Lambda reaches the emulator by a name only its network knows: upload URLs are signed for the host
        # the device itself called (the emulator serves S3 and the API on one port).
        env[ENV_PRESIGN_ENDPOINT] = PRESIGN_REQUEST_HOST
    env.update(options.extra_environment)
    return env


def registry_host(target: Target, options: DeployOptions) -> str | None:
    """The emulator's registry as the docker engine reaches it (host:port); None on AWS (ECR's own host)."""
    if not target.is_emulator:
        return None
    return urlsplit(options.public_endpoint_url or target.endpoint_url or "").netloc or None


def deploy(target: Target, options: DeployOptions) -> DeployResult:
    """Converge every resource; each step is idempotent and reports what it changed."""
    names = StackNames.for_target(target, options.prefix)
    changes: list[Change] = []

    bucket_arn = names.arn("s3", names.bucket, regional=False, account=False)
    changes.append(clip_bucket.ensure_bucket(target.client("s3"), names.bucket, target.region, bucket_arn,
                                             options.retention_days))
    login_change, generated_password = console_login.ensure_login(target.client("s3"), names.bucket,
                                                                   options.console_password)
    changes.append(login_change)
    dynamodb = target.client("dynamodb")
    for spec in (tables.people_table(names.people_table), tables.sightings_table(names.sightings_table),
                 tables.devices_table(names.devices_table)):
        changes.append(tables.ensure_table(dynamodb, spec))
    if options.seed:  # create-only: a deploy never resets what the console changed (e.g. a revoked allow_entry)
        changes.append(seed_people(target.resource("dynamodb"), names.people_table, load_people(options.seed_file)))
    logs, iam = target.client("logs"), target.client("iam")
    changes += [log_group.ensure_log_group(logs, group) for group in (names.log_group, names.control_log_group)]
    role_arn, change = lambda_role.ensure_role(iam, names.role, names.role_policy, lambda_role.access_policy(names))
    changes.append(change)
    control_role_arn, change = lambda_role.ensure_role(iam, names.control_role, names.control_role_policy,
                                                       lambda_role.control_policy(names))
    changes.append(change)

    pull_policy = recognizer_image.repository_policy(
        [names.function_arn(f) for f in (names.function, names.control_function)])
    image, image_changes = recognizer_image.ensure_image(target.client("ecr"), names.ecr_repository, pull_policy,
                                                         options.image, registry_host(target, options))
    changes.extend(image_changes)
    lam = target.client("lambda")
    environment = function_environment(names, options, target.is_emulator)
    recognizer = recognizer_function.FunctionSpec(
        name=names.function, image_uri=image.uri, role_arn=role_arn, architecture=image.architecture,
        environment=environment, reserved_concurrency=reserved_concurrency(target, options))
    # The device's light calls run apart: a busy recognizer never holds up a clip's upload URL.
    control = recognizer_function.FunctionSpec(
        name=names.control_function, image_uri=image.uri, role_arn=control_role_arn, architecture=image.architecture,
        environment=environment, memory_mb=CONTROL_MEMORY_MB, timeout_s=10, command=(CONTROL_HANDLER,),
        description="facegate control: clip upload URLs, clip links and visit reports")
    arns = {}
    for function in (recognizer, control):
        arns[function.name], change = recognizer_function.ensure_function(lam, function)
        changes.append(change)

    routes = {path: arns[names.function if path == RECOGNIZE_PATH else names.control_function]
              for path in http_api.ROUTES}
    api, api_changes = http_api.ensure_http_api(target.client("apigatewayv2"), names, routes,
                                                arns[names.control_function])
    changes.extend(api_changes)
    for function_name in arns:
        changes.append(recognizer_function.ensure_invoke_permission(
            lam, function_name, names.invoke_permission, http_api.invoke_source_arn(names, api.api_id)))
    devices = target.resource("dynamodb").Table(names.devices_table)
    developer, change = device_registry.ensure_developer_key(devices, names)
    changes.append(change)

    outputs = StackOutputs.build(
        region=target.region, endpoint_url=target.endpoint_url, api_id=api.api_id, stage=api.stage,
        api_key=developer.api_key, bucket=names.bucket, people_table=names.people_table,
        sightings_table=names.sightings_table, function_name=names.function, devices_table=names.devices_table,
        prefix=options.prefix, device_id=names.developer_device,
    ).seen_from(options.public_endpoint_url)
    return DeployResult(changes=changes, outputs=outputs, console_password=generated_password)


def seed(target: Target, prefix: str = "facegate", seed_file: Path | None = None, overwrite: bool = False) -> Change:
    """Create the people of the seed file not stored yet; `overwrite` also rewrites the seeded fields of the rest."""
    names = StackNames.for_target(target, prefix)
    return seed_people(target.resource("dynamodb"), names.people_table, load_people(seed_file), overwrite)


def destroy(target: Target, prefix: str = "facegate") -> list[Change]:
    """Delete every resource of the stack, API first so nothing can invoke a half-deleted function."""
    names = StackNames.for_target(target, prefix)
    changes = http_api.delete_http_api(target.client("apigatewayv2"), names)  # device keys go with their table
    lam, iam, logs = target.client("lambda"), target.client("iam"), target.client("logs")
    changes += [recognizer_function.delete_function(lam, f) for f in (names.function, names.control_function)]
    changes += [lambda_role.delete_role(iam, r) for r in (names.role, names.control_role)]
    changes += [log_group.delete_log_group(logs, g) for g in (names.log_group, names.control_log_group)]
    dynamodb = target.client("dynamodb")
    for table in (names.people_table, names.sightings_table, names.devices_table):
        changes.append(tables.delete_table(dynamodb, table))
    changes.append(clip_bucket.delete_bucket(target.client("s3"), names.bucket))
    changes.append(recognizer_image.delete_repository(target.client("ecr"), names.ecr_repository))
    return changes


def status(target: Target, prefix: str = "facegate") -> list[dict[str, Any]]:
    """Every resource deploy creates: whether it exists, with a short detail each."""
    names = StackNames.for_target(target, prefix)
    rows: list[dict[str, Any]] = []

    def row(kind: str, name: str, present: bool, detail: str = "") -> None:
        rows.append({"kind": kind, "name": name, "present": present, "detail": detail})

    row("s3 bucket", names.bucket, clip_bucket.bucket_exists(target.client("s3"), names.bucket))
    dynamodb = target.client("dynamodb")
    for table in (names.people_table, names.sightings_table, names.devices_table):
        present = tables.table_exists(dynamodb, table)
        count = dynamodb.describe_table(TableName=table)["Table"].get("ItemCount", 0) if present else 0
        row("dynamodb table", table, present, f"{count} items" if present else "")
    logs, iam, lam = target.client("logs"), target.client("iam"), target.client("lambda")
    for group in (names.log_group, names.control_log_group):
        row("log group", group, log_group.log_group_exists(logs, group))
    for role in (names.role, names.control_role):
        row("iam role", role, lambda_role.role_arn(iam, role) is not None)
    row("ecr repository", names.ecr_repository,
        recognizer_image.repository_exists(target.client("ecr"), names.ecr_repository))
    for function in (names.function, names.control_function):
        fn = recognizer_function.get_function(lam, function)
        row("lambda function", function, fn is not None, fn["Code"].get("ImageUri", "") if fn else "")
        row("lambda permission", f"{function}/{names.invoke_permission}",
            fn is not None and recognizer_function.permission_exists(lam, function, names.invoke_permission))
    api = http_api.find_api(target.client("apigatewayv2"), names.api)
    row("http api", names.api, api is not None,
        stage_url(api["ApiId"], names.stage, target.region, target.endpoint_url) if api else "")
    return rows


def leftovers(target: Target, prefix: str = "facegate") -> list[str]:
    """Names of stack resources that still exist (empty after a clean destroy)."""
    return [f"{r['kind']} {r['name']}" for r in status(target, prefix) if r["present"]]
