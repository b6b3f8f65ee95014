"""API Gateway REST API: POST /recognize (AWS_PROXY to the Lambda), API key + usage plan, JSON errors."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facegate_contract import RECOGNIZE_PATH, stage_url
from services.changes import Action, Change
from services.names import StackNames

BINARY_MEDIA_TYPES = ("image/png", "image/jpeg")
RESOURCE_PATH = RECOGNIZE_PATH
# POST does the work; ANY lets the Lambda answer other methods with a clear 405 instead of a bare 403.
METHODS = ("POST", "ANY")
# Gateway-generated errors (missing key, throttling, too large) also come back as {error, message}.
_ERROR_TEMPLATE = '{"error": "$context.error.responseType", "message": $context.error.messageString}'
GATEWAY_RESPONSES = ("DEFAULT_4XX", "DEFAULT_5XX")
THROTTLE = {"rateLimit": 20.0, "burstLimit": 40}


@dataclass(frozen=True)
class ApiInfo:
    """What clients need to call the API."""

    api_id: str
    stage: str
    api_key_id: str
    api_key: str


def _paginate(apigw: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in apigw.get_paginator(operation).paginate(**kwargs) for item in page.get("items", [])]


def find_api(apigw: Any, name: str) -> dict[str, Any] | None:
    """The REST API called `name`, if any."""
    return next((a for a in _paginate(apigw, "get_rest_apis") if a["name"] == name), None)


def _ensure_api(apigw: Any, names: StackNames, log: list[str]) -> tuple[str, bool]:
    api = find_api(apigw, names.rest_api)
    if api is None:
        api = apigw.create_rest_api(
            name=names.rest_api,
            description="facegate face recognition",
            binaryMediaTypes=list(BINARY_MEDIA_TYPES),
            endpointConfiguration={"types": ["REGIONAL"]},
        )
        return api["id"], True
    missing = [t for t in BINARY_MEDIA_TYPES if t not in (api.get("binaryMediaTypes") or [])]
    if missing:
        ops = [{"op": "add", "path": "/binaryMediaTypes/" + t.replace("/", "~1")} for t in missing]
        apigw.update_rest_api(restApiId=api["id"], patchOperations=ops)
        log.append("binary media types")
    return api["id"], False


def _ensure_resource(apigw: Any, api_id: str, log: list[str]) -> str:
    resources = _paginate(apigw, "get_resources", restApiId=api_id)
    found = next((r for r in resources if r["path"] == RESOURCE_PATH), None)
    if found:
        return found["id"]
    root = next(r for r in resources if r["path"] == "/")
    log.append(f"resource {RESOURCE_PATH}")
    return apigw.create_resource(restApiId=api_id, parentId=root["id"], pathPart=RESOURCE_PATH.strip("/"))["id"]


def _ensure_method(apigw: Any, api_id: str, resource_id: str, method: str, lambda_uri: str, log: list[str]) -> None:
    try:
        current = apigw.get_method(restApiId=api_id, resourceId=resource_id, httpMethod=method)
    except apigw.exceptions.NotFoundException:
        current = None
    if current is None or not current.get("apiKeyRequired"):
        if current is not None:
            apigw.delete_method(restApiId=api_id, resourceId=resource_id, httpMethod=method)
        apigw.put_method(
            restApiId=api_id, resourceId=resource_id, httpMethod=method,
            authorizationType="NONE", apiKeyRequired=True,
        )
        log.append(f"method {method}")
        current = {}
    integration = current.get("methodIntegration") or {}
    if integration.get("type") != "AWS_PROXY" or integration.get("uri") != lambda_uri:
        apigw.put_integration(
            restApiId=api_id, resourceId=resource_id, httpMethod=method,
            type="AWS_PROXY", integrationHttpMethod="POST", uri=lambda_uri,
        )
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
        apigw.put_gateway_response(
            restApiId=api_id, responseType=response_type,
            responseTemplates=templates, responseParameters=headers,
        )
        log.append(f"gateway response {response_type}")


def _ensure_stage(apigw: Any, api_id: str, stage: str, redeploy: bool) -> bool:
    stages = apigw.get_stages(restApiId=api_id).get("item", [])
    if redeploy or not any(s["stageName"] == stage for s in stages):
        apigw.create_deployment(restApiId=api_id, stageName=stage, description="facegate deploy")
        return True
    return False


def _ensure_usage_plan(apigw: Any, names: StackNames, api_id: str, log: list[str]) -> tuple[str, str]:
    wanted_stage = {"apiId": api_id, "stage": names.stage}
    plan = next((p for p in _paginate(apigw, "get_usage_plans") if p["name"] == names.usage_plan), None)
    if plan is None:
        plan = apigw.create_usage_plan(
            name=names.usage_plan, description="facegate camera devices",
            apiStages=[wanted_stage], throttle=THROTTLE,
        )
        log.append("usage plan")
    elif not any(s.get("apiId") == api_id and s.get("stage") == names.stage for s in plan.get("apiStages", [])):
        apigw.update_usage_plan(
            usagePlanId=plan["id"],
            patchOperations=[{"op": "add", "path": "/apiStages", "value": f"{api_id}:{names.stage}"}],
        )
        log.append("usage plan stage")
    key = next((k for k in _paginate(apigw, "get_api_keys", nameQuery=names.api_key, includeValues=True)
                if k["name"] == names.api_key), None)
    if key is None:
        key = apigw.create_api_key(name=names.api_key, description="facegate device key", enabled=True)
        log.append("api key")
    plan_keys = _paginate(apigw, "get_usage_plan_keys", usagePlanId=plan["id"])
    if not any(k["id"] == key["id"] for k in plan_keys):
        apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
        log.append("usage plan key")
    value = key.get("value") or apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"]
    return key["id"], value


def ensure_rest_api(apigw: Any, names: StackNames, function_arn: str) -> tuple[ApiInfo, list[Change]]:
    """Create or converge the whole API; a new deployment is made only when the API changed."""
    log: list[str] = []
    lambda_uri = f"arn:aws:apigateway:{names.region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    api_id, created = _ensure_api(apigw, names, log)
    resource_id = _ensure_resource(apigw, api_id, log)
    for method in METHODS:
        _ensure_method(apigw, api_id, resource_id, method, lambda_uri, log)
    _ensure_gateway_responses(apigw, api_id, log)
    deployed = _ensure_stage(apigw, api_id, names.stage, redeploy=bool(log) or created)
    key_log: list[str] = []
    key_id, key_value = _ensure_usage_plan(apigw, names, api_id, key_log)

    changes = [
        Change("rest api", names.rest_api, Action.CREATED if created else Action.UPDATED if log else Action.UNCHANGED,
               ", ".join(log) if not created else f"id {api_id}"),
        Change("api stage", names.stage, Action.UPDATED if deployed else Action.UNCHANGED,
               "new deployment" if deployed else ""),
        Change("usage plan + key", names.usage_plan, Action.UPDATED if key_log else Action.UNCHANGED, ", ".join(key_log)),
    ]
    return ApiInfo(api_id=api_id, stage=names.stage, api_key_id=key_id, api_key=key_value), changes


def method_source_arn(names: StackNames, api_id: str) -> str:
    """Source ARN that lets only this API's /recognize methods invoke the Lambda."""
    return f"arn:aws:execute-api:{names.region}:{names.account_id}:{api_id}/*/*{RESOURCE_PATH}"


def delete_rest_api(apigw: Any, names: StackNames) -> list[Change]:
    """Delete the usage plan, API key and REST API."""
    changes: list[Change] = []
    plan = next((p for p in _paginate(apigw, "get_usage_plans") if p["name"] == names.usage_plan), None)
    if plan is not None:
        for key in _paginate(apigw, "get_usage_plan_keys", usagePlanId=plan["id"]):
            apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
        stages = [{"op": "remove", "path": "/apiStages", "value": f"{s['apiId']}:{s['stage']}"} for s in plan.get("apiStages", [])]
        if stages:
            apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=stages)
        apigw.delete_usage_plan(usagePlanId=plan["id"])
    changes.append(Change("usage plan", names.usage_plan, Action.DELETED if plan else Action.ABSENT))
    keys = [k for k in _paginate(apigw, "get_api_keys", nameQuery=names.api_key) if k["name"] == names.api_key]
    for key in keys:
        apigw.delete_api_key(apiKey=key["id"])
    changes.append(Change("api key", names.api_key, Action.DELETED if keys else Action.ABSENT))
    api = find_api(apigw, names.rest_api)
    if api is not None:
        apigw.delete_rest_api(restApiId=api["id"])
    changes.append(Change("rest api", names.rest_api, Action.DELETED if api else Action.ABSENT))
    return changes

