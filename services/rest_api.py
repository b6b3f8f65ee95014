"""API Gateway REST API: every route of the wire contract as AWS_PROXY to the Lambda, API keys required, a usage
plan with a throttle, and gateway errors as JSON `{error, message}`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facegate_contract import (CLIP_LINKS_PATH, DOOR_REQUEST_STATUS_PATH, DOOR_REQUESTS_PATH, RECOGNIZE_PATH,
                               UPLOADS_PATH, VISITS_PATH)
from services.changes import Action, Change
from services.names import StackNames

ROUTES = (RECOGNIZE_PATH, UPLOADS_PATH, CLIP_LINKS_PATH, VISITS_PATH, DOOR_REQUESTS_PATH, DOOR_REQUEST_STATUS_PATH, *__import__("facegate_contract").FOOTAGE_PATHS)  # noqa: E501
BINARY_MEDIA_TYPES = ("image/png", "image/jpeg")
# POST does the work; ANY lets the Lambda answer other methods with a clear 405 instead of a bare 403.
METHODS = ("POST", "ANY")
# Gateway-generated errors (missing key, throttling, too large) also come back as {error, message}.
_ERROR_TEMPLATE = '{"error": "$context.error.responseType", "message": $context.error.messageString}'
GATEWAY_RESPONSES = ("DEFAULT_4XX", "DEFAULT_5XX", "REQUEST_TOO_LARGE")
# Per API key, i.e. per device: a door camera sends ~2 frames/s; bursts cover a backlog draining after an outage.
THROTTLE = {"rateLimit": 20.0, "burstLimit": 40}


@dataclass(frozen=True)
class ApiInfo:
    """Where the API is."""

    api_id: str
    stage: str
    usage_plan_id: str


def paginate(apigw: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated API Gateway listing."""
    return [item for page in apigw.get_paginator(operation).paginate(**kwargs) for item in page.get("items", [])]


def find_api(apigw: Any, name: str) -> dict[str, Any] | None:
    """The REST API called `name`, if any."""
    return next((a for a in paginate(apigw, "get_rest_apis") if a["name"] == name), None)


def find_usage_plan(apigw: Any, name: str) -> dict[str, Any] | None:
    """The usage plan called `name`, if any."""
    return next((p for p in paginate(apigw, "get_usage_plans") if p["name"] == name), None)


def _ensure_api(apigw: Any, names: StackNames, log: list[str]) -> tuple[str, bool]:
    api = find_api(apigw, names.rest_api)
    if api is None:
        api = apigw.create_rest_api(name=names.rest_api, description="facegate face recognition",
                                    binaryMediaTypes=list(BINARY_MEDIA_TYPES), endpointConfiguration={"types": ["REGIONAL"]})
        return api["id"], True
    missing = [t for t in BINARY_MEDIA_TYPES if t not in (api.get("binaryMediaTypes") or [])]
    if missing:
        ops = [{"op": "add", "path": "/binaryMediaTypes/" + t.replace("/", "~1")} for t in missing]
        apigw.update_rest_api(restApiId=api["id"], patchOperations=ops)
        log.append("binary media types")
    return api["id"], False


def _ensure_resource(apigw: Any, api_id: str, path: str, resources: list[dict[str, Any]], log: list[str]) -> str:
    found = next((r for r in resources if r["path"] == path), None)
    if found:
        return found["id"]
    root = next(r for r in resources if r["path"] == "/")
    log.append(f"resource {path}")
    return apigw.create_resource(restApiId=api_id, parentId=root["id"], pathPart=path.strip("/"))["id"]


def _ensure_method(apigw: Any, api_id: str, resource_id: str, method: str, lambda_uri: str, log: list[str]) -> None:
    try:
        current = apigw.get_method(restApiId=api_id, resourceId=resource_id, httpMethod=method)
    except apigw.exceptions.NotFoundException:
        current = None
    if current is None or not current.get("apiKeyRequired"):
        if current is not None:
            apigw.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod=method)
        apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=method,
                         authorizationType="NONE", apiKeyRequired=True)
        log.append(f"method {method}")
        current = {}
    integration = current.get("methodIntegration") or {}
    if integration.get("type") != "AWS_PROXY" or integration.get("uri") != lambda_uri:
        apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method,
                              type="AWS_PROXY", integrationHttpMethod="POST", uri=lambda_uri)
        log.append(f"integration {method}")


def _ensure_gateway_responses(apigw: Any, api_id: str, log: list[str]) -> None:
    templates = {"application/json": _ERROR_TEMPLATE}
    headers = {"gatewayresponse.header.Content-Type": "'application/json'"}
    for response_type in GATEWAY_RESPONSES:
        try:
            current = apigw.get_gateway_response(restApiId=api_id, responseType=response_type)
        except apigw.exceptions.NotFoundException:
            current = {}
        if current.get("responseTemplates") == templates and current.get("defaultResponse") is False:
            continue
        apigw.put_gateway_response(restApiId=api_id, responseType=response_type,
                                   responseTemplates=templates, responseParameters=headers)
        log.append(f"gateway response {response_type}")


def _ensure_stage(apigw: Any, api_id: str, stage: str, redeploy: bool) -> bool:
    stages = apigw.get_stages(restApiId=api_id).get("item", [])
    if redeploy or not any(s["stageName"] == stage for s in stages):
        apigw.create_deployment(restApiId=api_id, stageName=stage, description="facegate deploy")
        return True
    return False


def _throttle_drift(plan: dict[str, Any]) -> list[dict[str, str]]:
    current = plan.get("throttle") or {}
    ops = []
    for key, wanted in THROTTLE.items():
        try:
            same = float(current.get(key, "")) == float(wanted)
        except (TypeError, ValueError):
            same = False
        if not same:
            ops.append({"op": "replace", "path": f"/throttle/{key}", "value": str(wanted)})
    return ops


def ensure_usage_plan(apigw: Any, names: StackNames, api_id: str) -> tuple[str, Change]:
    """The usage plan on this API's stage with the wanted throttle, converged on every deploy."""
    wanted_stage = {"apiId": api_id, "stage": names.stage}
    plan = find_usage_plan(apigw, names.usage_plan)
    if plan is None:
        plan = apigw.create_usage_plan(name=names.usage_plan, description="facegate camera devices",
                                       apiStages=[wanted_stage], throttle=THROTTLE)
        return plan["id"], Change("usage plan", names.usage_plan, Action.CREATED,
                                  f"{THROTTLE['rateLimit']:g} req/s per key, burst {THROTTLE['burstLimit']}")
    ops = _throttle_drift(plan)
    if not any(s.get("apiId") == api_id and s.get("stage") == names.stage for s in plan.get("apiStages", [])):
        ops.append({"op": "add", "path": "/apiStages", "value": f"{api_id}:{names.stage}"})
    if ops:
        apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=ops)
        return plan["id"], Change("usage plan", names.usage_plan, Action.UPDATED,
                                  ", ".join(sorted({op["path"].split("/")[1] for op in ops})))
    return plan["id"], Change("usage plan", names.usage_plan, Action.UNCHANGED)


def lambda_integration_uri(names: StackNames, function_arn: str) -> str:
    """The AWS_PROXY integration URI of the function, in AWS's documented form (PutIntegration `uri`):
    `arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function-arn}/invocations`.

    Not a resource ARN: the field after the region names the integrated service (`lambda`), and there is no
    account field, so `StackNames.arn` does not build it."""
    return (f"arn:{names.partition}:apigateway:{names.region}:lambda:path/2015-03-31/functions/"
            f"{function_arn}/invocations")


def ensure_rest_api(apigw: Any, names: StackNames, functions: dict[str, str]) -> tuple[ApiInfo, list[Change]]:
    """Create or converge the whole API (`functions`: route → the ARN of the function serving it); a new
    deployment is made only when the API changed."""
    log: list[str] = []
    api_id, created = _ensure_api(apigw, names, log)
    resources = paginate(apigw, "get_resources", restApiId=api_id)
    for path in ROUTES:
        resource_id = _ensure_resource(apigw, api_id, path, resources, log)
        for method in METHODS:
            _ensure_method(apigw, api_id, resource_id, method, lambda_integration_uri(names, functions[path]), log)
    _ensure_gateway_responses(apigw, api_id, log)
    deployed = _ensure_stage(apigw, api_id, names.stage, redeploy=bool(log) or created)
    plan_id, plan_change = ensure_usage_plan(apigw, names, api_id)
    changes = [
        Change("rest api", names.rest_api, Action.CREATED if created else Action.UPDATED if log else Action.UNCHANGED,
               ", ".join(log) if not created else f"id {api_id}"),
        Change("api stage", names.stage, Action.UPDATED if deployed else Action.UNCHANGED,
               "new deployment" if deployed else ""),
        plan_change,
    ]
    return ApiInfo(api_id=api_id, stage=names.stage, usage_plan_id=plan_id), changes


def invoke_source_arn(names: StackNames, api_id: str) -> str:
    """Source ARN that lets only this API's stage (any method, any route) invoke the Lambda; AWS's form is
    `arn:{partition}:execute-api:{region}:{account}:{api-id}/{stage}/{method}/{resource-path}`."""
    return names.arn("execute-api", f"{api_id}/{names.stage}/*/*")


def delete_rest_api(apigw: Any, names: StackNames) -> list[Change]:
    """Delete the usage plan and the REST API (API keys go with the device registry)."""
    changes: list[Change] = []
    plan = find_usage_plan(apigw, names.usage_plan)
    if plan is not None:
        for key in paginate(apigw, "get_usage_plan_keys", usagePlanId=plan["id"]):
            apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
        stages = [{"op": "remove", "path": "/apiStages", "value": f"{s['apiId']}:{s['stage']}"}
                  for s in plan.get("apiStages", [])]
        if stages:
            apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=stages)
        apigw.delete_usage_plan(usagePlanId=plan["id"])
    changes.append(Change("usage plan", names.usage_plan, Action.DELETED if plan else Action.ABSENT))
    api = find_api(apigw, names.rest_api)
    if api is not None:
        apigw.delete_rest_api(restApiId=api["id"])
    changes.append(Change("rest api", names.rest_api, Action.DELETED if api else Action.ABSENT))
    return changes
