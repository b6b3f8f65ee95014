"""API Gateway HTTP API: every route of the wire contract as a Lambda proxy (payload format 2.0), a throttled stage
that deploys itself, and every other path answered by the control function as a JSON `{error, message}`.

Why an HTTP API and not a REST API: a door camera's cost is almost all requests, and an HTTP API costs $1.00 per
million of them where a REST API costs $3.50 (us-east-1 list prices; see docs/architecture.md, "What a door costs").
What the REST API's usage plans and API keys did is done by the functions: each request's `x-api-key` is looked up
in the stack's `devices` table (recognizer/api/device_identity.py) and refused with a 403 `{error, message}` when it
is no registered device's; the stage throttles every route.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facegate_contract import (CLIP_LINKS_PATH, DOOR_REQUEST_STATUS_PATH, DOOR_REQUESTS_PATH, FOOTAGE_PATHS,
                               RECOGNIZE_PATH, UPLOAD_GRANTS_PATH, UPLOADS_PATH, VISITS_PATH)
from services.changes import Action, Change
from services.names import StackNames

ROUTES = (RECOGNIZE_PATH, UPLOADS_PATH, UPLOAD_GRANTS_PATH, CLIP_LINKS_PATH, VISITS_PATH, DOOR_REQUESTS_PATH,
          DOOR_REQUEST_STATUS_PATH, *FOOTAGE_PATHS)
# Any method reaches the function, which answers all but POST with a clear 405 `{error, message}`.
METHOD = "ANY"
# Any other path reaches the control function (no models: cheap), which answers 404 `{error, message}`.
DEFAULT_ROUTE = "$default"
PAYLOAD_FORMAT = "2.0"  # an HTTP API's own event (and the only one MiniStack sends); the handlers read 1.0 too
# A door camera sends ~2 frames/s; the burst covers a backlog draining after an outage, for a few devices at once.
THROTTLE = {"ThrottlingRateLimit": 50.0, "ThrottlingBurstLimit": 100}


@dataclass(frozen=True)
class ApiInfo:
    """Where the API is."""

    api_id: str
    stage: str


def _items(apigw: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of an API Gateway v2 listing (they page with NextToken)."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = getattr(apigw, operation)(**kwargs, **({"NextToken": token} if token else {}))
        items.extend(page.get("Items", []))
        token = page.get("NextToken")
        if not token:
            return items


def find_api(apigw: Any, name: str) -> dict[str, Any] | None:
    """The HTTP API called `name`, if any."""
    return next((a for a in _items(apigw, "get_apis") if a["Name"] == name and a.get("ProtocolType") == "HTTP"),
                None)


def lambda_integration_uri(function_arn: str) -> str:
    """An HTTP API's Lambda proxy integration names the function by its ARN (CreateIntegration `IntegrationUri`)."""
    return function_arn


def _ensure_integrations(apigw: Any, api_id: str, function_arns: set[str], log: list[str]) -> dict[str, str]:
    """function ARN → its integration id: one Lambda proxy integration per function, in PAYLOAD_FORMAT."""
    found: dict[str, str] = {}
    for integration in _items(apigw, "get_integrations", ApiId=api_id):
        uri = integration.get("IntegrationUri", "")
        if uri not in function_arns or uri in found:
            continue
        if (integration.get("IntegrationType") != "AWS_PROXY"
                or integration.get("PayloadFormatVersion") != PAYLOAD_FORMAT):
            apigw.update_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"],
                                     IntegrationType="AWS_PROXY", PayloadFormatVersion=PAYLOAD_FORMAT)
            log.append(f"integration {uri.rsplit(':', 1)[-1]}")
        found[uri] = integration["IntegrationId"]
    for arn in sorted(function_arns - set(found)):
        created = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationMethod="POST",
                                           IntegrationUri=lambda_integration_uri(arn),
                                           PayloadFormatVersion=PAYLOAD_FORMAT)
        found[arn] = created["IntegrationId"]
        log.append(f"integration {arn.rsplit(':', 1)[-1]}")
    return found


def route_keys(functions: dict[str, str], default_function: str) -> dict[str, str]:
    """Route key → the ARN of the function serving it: `ANY /path` per contract route, and `$default`."""
    keys = {f"{METHOD} {path}": arn for path, arn in functions.items()}
    keys[DEFAULT_ROUTE] = default_function
    return keys


def _ensure_routes(apigw: Any, api_id: str, wanted: dict[str, str], log: list[str]) -> None:
    """Each wanted route key targets its integration (`integrations/{id}`); routes of no wanted key are removed."""
    current = {r["RouteKey"]: r for r in _items(apigw, "get_routes", ApiId=api_id)}
    for key, target in wanted.items():
        route = current.pop(key, None)
        if route is None:
            apigw.create_route(ApiId=api_id, RouteKey=key, Target=target, AuthorizationType="NONE")
            log.append(f"route {key}")
        elif route.get("Target") != target:
            apigw.update_route(ApiId=api_id, RouteId=route["RouteId"], Target=target)
            log.append(f"route {key}")
    for key, route in current.items():  # e.g. a route an older version served
        apigw.delete_route(ApiId=api_id, RouteId=route["RouteId"])
        log.append(f"route {key} removed")


def _throttle_differs(stage: dict[str, Any]) -> bool:
    current = stage.get("DefaultRouteSettings") or {}
    return any(float(current.get(k) or -1) != float(v) for k, v in THROTTLE.items())


def _ensure_stage(apigw: Any, api_id: str, stage_name: str) -> Change:
    """The stage devices call: deploys every change by itself (AutoDeploy), with the throttle."""
    stage = next((s for s in _items(apigw, "get_stages", ApiId=api_id) if s["StageName"] == stage_name), None)
    if stage is None:
        apigw.create_stage(ApiId=api_id, StageName=stage_name, AutoDeploy=True, DefaultRouteSettings=THROTTLE,
                           Description="facegate devices")
        return Change("api stage", stage_name, Action.CREATED,
                      f"{THROTTLE['ThrottlingRateLimit']:g} req/s, burst {THROTTLE['ThrottlingBurstLimit']}")
    if not stage.get("AutoDeploy") or _throttle_differs(stage):
        apigw.update_stage(ApiId=api_id, StageName=stage_name, AutoDeploy=True, DefaultRouteSettings=THROTTLE)
        return Change("api stage", stage_name, Action.UPDATED, "auto-deploy, throttle")
    return Change("api stage", stage_name, Action.UNCHANGED)


def ensure_http_api(apigw: Any, names: StackNames, functions: dict[str, str],
                    default_function: str) -> tuple[ApiInfo, list[Change]]:
    """Create or converge the whole API (`functions`: route path → the ARN of the function serving it;
    `default_function`: the ARN of the function answering every other path)."""
    log: list[str] = []
    api = find_api(apigw, names.api)
    created = api is None
    if api is None:
        api = apigw.create_api(Name=names.api, ProtocolType="HTTP", Description="facegate face recognition")
    api_id = api["ApiId"]
    integrations = _ensure_integrations(apigw, api_id, set(functions.values()) | {default_function}, log)
    targets = {key: f"integrations/{integrations[arn]}" for key, arn in route_keys(functions, default_function).items()}
    _ensure_routes(apigw, api_id, targets, log)
    stage_change = _ensure_stage(apigw, api_id, names.stage)
    api_change = Change("http api", names.api,
                        Action.CREATED if created else Action.UPDATED if log else Action.UNCHANGED,
                        f"id {api_id}" if created else ", ".join(log))
    return ApiInfo(api_id=api_id, stage=names.stage), [api_change, stage_change]


def invoke_source_arn(names: StackNames, api_id: str) -> str:
    """Source ARN that lets only this API's stage invoke the functions, on any route (`{stage}/{method}/{path}`
    and `{stage}/$default`): `arn:{partition}:execute-api:{region}:{account}:{api-id}/{stage}/*`."""
    return names.arn("execute-api", f"{api_id}/{names.stage}/*")


def delete_http_api(apigw: Any, names: StackNames) -> list[Change]:
    """Delete the HTTP API (its routes, integrations and stage go with it)."""
    api = find_api(apigw, names.api)
    if api is not None:
        apigw.delete_api(ApiId=api["ApiId"])
    return [Change("http api", names.api, Action.DELETED if api else Action.ABSENT)]
