"""The requests deploy makes that only real AWS would catch: checked on the request itself (botocore's Stubber,
no network), so a change that breaks them fails here rather than in someone's account."""
from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from facegate_contract import stage_url
from services import clip_bucket, deployer_policy, lambda_role, device_registry, http_api, recognizer_function, recognizer_image
from services.names import StackNames
from services.target import Target, UnknownRegion

NAMES = StackNames(prefix="facegate", account_id="123456789012", region="eu-west-1")
CHINA = StackNames(prefix="facegate", account_id="123456789012", region="cn-north-1", partition="aws-cn")


def client(service: str, region: str = "eu-west-1") -> Any:
    return boto3.client(service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s")


def _role_not_ready() -> ClientError:
    return ClientError({"Error": {"Code": "InvalidParameterValueException",
                                  "Message": "The role defined for the function cannot be assumed by Lambda."}},
                       "CreateFunction")


class TestLambdaFunction:
    SPEC = recognizer_function.FunctionSpec(name="facegate-recognizer", image_uri="r/x:img-1",
                                            role_arn="arn:aws:iam::123456789012:role/r", architecture="arm64")

    def test_create_retries_while_the_new_role_propagates_then_succeeds(self) -> None:
        calls, sleeps = [], []

        def create() -> str:
            calls.append(1)
            if len(calls) < 3:
                raise _role_not_ready()
            return "created"

        assert recognizer_function.retry_while_role_propagates(create, sleep=sleeps.append) == "created"
        assert len(calls) == 3 and sleeps == [1.0, 2.0]

    def test_other_errors_are_not_retried(self) -> None:
        calls = []

        def create() -> None:
            calls.append(1)
            raise ClientError({"Error": {"Code": "InvalidParameterValueException", "Message": "bad image"}}, "X")

        with pytest.raises(ClientError):
            recognizer_function.retry_while_role_propagates(create, sleep=lambda s: None)
        assert len(calls) == 1

    def test_create_sends_the_image_architecture_and_a_timeout_under_api_gateways(self) -> None:
        lam = client("lambda")
        with Stubber(lam) as stub:
            stub.add_client_error("get_function", "ResourceNotFoundException")
            stub.add_client_error("create_function", "InvalidParameterValueException",
                                  "The role defined for the function cannot be assumed by Lambda.")
            stub.add_response("create_function", {"FunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:f"},
                              {"FunctionName": "facegate-recognizer", "PackageType": "Image",
                               "Code": {"ImageUri": "r/x:img-1"}, "Architectures": ["arm64"],
                               "Description": self.SPEC.description, "Publish": False, "Role": self.SPEC.role_arn,
                               "Timeout": 25, "MemorySize": 1769, "Environment": {"Variables": {}}})
            stub.add_response("get_function", {"Configuration": {"State": "Active"}})
            stub.add_response("get_function_concurrency", {})
            recognizer_function.ensure_function(lam, self.SPEC, sleep=lambda s: None)
            stub.assert_no_pending_responses()

    def test_an_architecture_change_updates_the_code(self) -> None:
        lam = client("lambda")
        current = {"Configuration": {"FunctionArn": "arn:f", "Role": self.SPEC.role_arn, "Timeout": 25,
                                     "MemorySize": 1769, "Description": self.SPEC.description,
                                     "Environment": {"Variables": {}}, "Architectures": ["x86_64"]},
                   "Code": {"ImageUri": "r/x:img-1"}}
        with Stubber(lam) as stub:
            stub.add_response("get_function", current)
            stub.add_response("update_function_code", {},
                              {"FunctionName": "facegate-recognizer", "ImageUri": "r/x:img-1",
                               "Architectures": ["arm64"]})
            stub.add_response("get_function", {"Configuration": {"LastUpdateStatus": "Successful"}})
            stub.add_response("get_function_concurrency", {})
            _, change = recognizer_function.ensure_function(lam, self.SPEC, sleep=lambda s: None)
        assert change.action.value == "updated" and "arm64" in change.detail

    def test_a_function_says_what_it_does_and_an_old_description_is_converged(self) -> None:
        control = dataclasses.replace(self.SPEC, name="facegate-control", description="facegate control: uploads")
        lam = client("lambda")
        current = {"Configuration": {"FunctionArn": "arn:f", "Role": self.SPEC.role_arn, "Timeout": 25,
                                     "MemorySize": 1769, "Description": self.SPEC.description,
                                     "Environment": {"Variables": {}}, "Architectures": ["arm64"]},
                   "Code": {"ImageUri": "r/x:img-1"}}
        with Stubber(lam) as stub:
            stub.add_response("get_function", current)
            stub.add_response("update_function_configuration", {},
                              {"FunctionName": "facegate-control", **control.configuration()})
            stub.add_response("get_function", {"Configuration": {"LastUpdateStatus": "Successful"}})
            stub.add_response("get_function_concurrency", {})
            _, change = recognizer_function.ensure_function(lam, control, sleep=lambda s: None)
            stub.assert_no_pending_responses()
        assert control.configuration()["Description"] == "facegate control: uploads"
        assert change.action.value == "updated" and "Description" in change.detail

    @pytest.mark.parametrize(("current", "wanted", "call"), [
        ({}, 2, ("put_function_concurrency", {"FunctionName": "f", "ReservedConcurrentExecutions": 2})),
        ({"ReservedConcurrentExecutions": 2}, None, ("delete_function_concurrency", {"FunctionName": "f"})),
        ({"ReservedConcurrentExecutions": 2}, 2, None)], ids=["reserve", "release", "unchanged"])
    def test_reserved_concurrency_is_converged(self, current: dict, wanted: int | None, call) -> None:
        lam = client("lambda")
        with Stubber(lam) as stub:
            stub.add_response("get_function_concurrency", current, {"FunctionName": "f"})
            if call:
                stub.add_response(call[0], {}, call[1])
            changed = recognizer_function.ensure_concurrency(lam, "f", wanted)
            stub.assert_no_pending_responses()
        assert bool(changed) == bool(call)

    def test_a_timeout_of_api_gateways_limit_or_more_is_refused(self) -> None:
        with pytest.raises(ValueError, match="29"):
            recognizer_function.FunctionSpec(name="f", image_uri="i", role_arn="r", timeout_s=29)


class TestImage:
    class Image:
        def __init__(self, arch: str) -> None:
            self.attrs = {"Architecture": arch}

    @pytest.mark.parametrize(("docker_arch", "lambda_arch"), [("amd64", "x86_64"), ("arm64", "arm64")])
    def test_the_lambda_architecture_comes_from_the_image(self, docker_arch: str, lambda_arch: str) -> None:
        assert recognizer_image.lambda_architecture(self.Image(docker_arch)) == lambda_arch

    def test_an_architecture_lambda_cannot_run_is_refused(self) -> None:
        with pytest.raises(recognizer_image.ImageError, match="s390x"):
            recognizer_image.lambda_architecture(self.Image("s390x"))

    def test_a_new_repository_gets_immutable_tags_a_lifecycle_and_a_lambda_pull_policy(self) -> None:
        ecr = client("ecr")
        with Stubber(ecr) as stub:
            stub.add_client_error("describe_repositories", "RepositoryNotFoundException")
            stub.add_response("create_repository", {"repository": {"repositoryUri": "123.dkr.ecr/facegate/recognizer"}},
                              {"repositoryName": "facegate/recognizer", "imageTagMutability": "IMMUTABLE",
                               "imageScanningConfiguration": {"scanOnPush": True}})
            stub.add_client_error("get_lifecycle_policy", "LifecyclePolicyNotFoundException")
            stub.add_response("put_lifecycle_policy", {}, {"repositoryName": "facegate/recognizer",
                                                           "lifecyclePolicyText": ANY})
            stub.add_client_error("get_repository_policy", "RepositoryPolicyNotFoundException")
            stub.add_response("set_repository_policy", {}, {"repositoryName": "facegate/recognizer", "policyText": ANY})
            uri, change = recognizer_image.ensure_repository(ecr, "facegate/recognizer",
                                                             recognizer_image.repository_policy(["arn:f"]))
        assert uri.endswith("facegate/recognizer") and change.action.value == "created"
        rule = recognizer_image.lifecycle_policy()["rules"][0]
        assert rule["selection"]["countNumber"] == recognizer_image.KEEP_IMAGES and rule["action"]["type"] == "expire"

    def test_destroy_deletes_the_repository_with_its_images(self) -> None:
        ecr = client("ecr")
        with Stubber(ecr) as stub:
            stub.add_response("delete_repository", {}, {"repositoryName": "facegate/recognizer", "force": True})
            assert recognizer_image.delete_repository(ecr, "facegate/recognizer").action.value == "deleted"


class TestDocumentedForms:
    """Each request shape AWS validates and the emulator does not, against the form AWS documents."""

    ARN_PARTITIONS = "(aws|aws-cn|aws-us-gov)"

    @pytest.mark.parametrize("names", [NAMES, CHINA], ids=["aws", "aws-cn"])
    def test_the_integration_uri_is_the_functions_arn(self, names: StackNames) -> None:
        """CreateIntegration `IntegrationUri` of an HTTP API's Lambda proxy integration (API Gateway v2 API reference,
        Integration): "For a Lambda integration, specify the ARN of a Lambda function" — not the REST API's
        `arn:aws:apigateway:{region}:lambda:path/...` form."""
        function = names.function_arn(names.function)
        uri = http_api.lambda_integration_uri(function)
        assert re.match(rf"^arn:{names.partition}:lambda:{names.region}:\d{{12}}:function:[\w-]+$", uri), uri

    def test_the_invoke_permission_names_this_apis_stage_in_the_execute_api_form(self) -> None:
        """Lambda AddPermission `SourceArn` for API Gateway (API Gateway developer guide, "execute-api ARN format"):
        `arn:{partition}:execute-api:{region}:{account-id}:{api-id}/{stage}/{http-method}/{resource-path}`, and
        `{api-id}/{stage}/$default` for an HTTP API's default route: this stage, any route."""
        arn = http_api.invoke_source_arn(NAMES, "a1b2c3d4e5")
        assert re.match(r"^arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/live/\*$", arn), arn
        china = http_api.invoke_source_arn(CHINA, "a1b2c3d4e5")
        assert china.startswith("arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3d4e5/live/")

    def test_the_invoke_permission_is_granted_to_api_gateway_with_that_source(self) -> None:
        lam = client("lambda")
        source = http_api.invoke_source_arn(NAMES, "a1b2c3d4e5")
        with Stubber(lam) as stub:
            stub.add_client_error("get_policy", "ResourceNotFoundException")
            stub.add_response("add_permission", {}, {
                "FunctionName": "facegate-recognizer", "StatementId": NAMES.invoke_permission,
                "Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com", "SourceArn": source})
            recognizer_function.ensure_invoke_permission(lam, "facegate-recognizer", NAMES.invoke_permission, source)
            stub.assert_no_pending_responses()

    @pytest.mark.parametrize("names", [NAMES, CHINA], ids=["aws", "aws-cn"])
    def test_the_repository_policy_lets_lambda_pull_for_this_stacks_functions_only(self, names: StackNames) -> None:
        """ECR repository policy for a Lambda container image (Lambda developer guide, "Amazon ECR permissions"):
        principal `{"Service": "lambda.amazonaws.com"}`, actions ecr:BatchGetImage and ecr:GetDownloadUrlForLayer,
        condition `StringLike aws:sourceArn arn:{partition}:lambda:{region}:{account}:function:...`."""
        functions = [names.function_arn(f) for f in (names.function, names.control_function)]
        [statement] = recognizer_image.repository_policy(functions)["Statement"]
        assert statement["Effect"] == "Allow" and statement["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert sorted(statement["Action"]) == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        sources = statement["Condition"]["StringLike"]["aws:sourceArn"]
        assert sorted(sources) == sorted(functions)
        for arn in sources:  # this partition, this region, this account, a function of this stack: no wildcard
            assert re.match(rf"^arn:{names.partition}:lambda:{names.region}:{names.account_id}:function:"
                            rf"{names.prefix}-(recognizer|control)$", arn), arn

    def test_function_arns_are_resource_arns_of_the_stack(self) -> None:
        """Lambda function ARN (Service Authorization Reference, AWS Lambda resource types):
        `arn:{partition}:lambda:{region}:{account}:function:{name}`."""
        assert NAMES.function_arn("facegate-control") == "arn:aws:lambda:eu-west-1:123456789012:function:facegate-control"


class TestDeployerPolicy:
    """The policy README tells an AWS admin to attach."""

    def test_the_shipped_file_is_what_the_module_renders(self) -> None:
        assert deployer_policy.POLICY_FILE.read_text() == deployer_policy.render(deployer_policy.deployer_policy())

    def test_no_wildcard_actions_and_every_resource_is_the_stacks_unless_aws_allows_none(self) -> None:
        policy = deployer_policy.deployer_policy(account="123456789012", region="eu-west-1")
        for statement in policy["Statement"]:
            assert all("*" not in action for action in statement["Action"]), statement
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                if resource == "*":  # AWS has no resource for these
                    assert statement["Action"] == ["ecr:GetAuthorizationToken"], statement
                elif ":apigateway:" in resource:  # ids AWS chooses; the paths are API Gateway's own
                    assert re.match(r"^arn:aws:apigateway:eu-west-1::/apis(/\*)?$", resource)
                elif resource.endswith("log-group:*"):
                    assert statement["Action"] == ["logs:DescribeLogGroups"]
                else:
                    assert re.search(r"facegate[-/]", resource), resource

    def test_roles_are_passed_to_lambda_only(self) -> None:
        [passing] = [s for s in deployer_policy.deployer_policy()["Statement"] if "iam:PassRole" in s["Action"]]
        assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
        assert passing["Resource"].endswith(":role/facegate-*")

    def test_another_partition_account_and_region_are_rendered(self, capsys: pytest.CaptureFixture[str]) -> None:
        deployer_policy.main(["--partition", "aws-cn", "--account", "123456789012", "--region", "cn-north-1",
                              "--prefix", "door"])
        text = capsys.readouterr().out
        arns = re.findall(r'"(arn:[^"]+)"', text)
        assert arns and all(a.startswith("arn:aws-cn:") for a in arns)
        assert "arn:aws-cn:lambda:cn-north-1:123456789012:function:door-*" in arns


ROUTE_FUNCTIONS = {path: NAMES.function_arn(NAMES.function if path == "/recognize" else NAMES.control_function)
                   for path in http_api.ROUTES}
CONTROL_ARN = NAMES.function_arn(NAMES.control_function)


def _converged_api() -> dict[str, Any]:
    """The listings of an API deploy converged already: integration ids are the functions' names."""
    integrations = [{"IntegrationId": arn.rsplit(":", 1)[-1], "IntegrationUri": arn, "IntegrationType": "AWS_PROXY",
                     "PayloadFormatVersion": "2.0"} for arn in sorted(set(ROUTE_FUNCTIONS.values()))]
    routes = [{"RouteId": f"r{i}", "RouteKey": key, "Target": f"integrations/{arn.rsplit(':', 1)[-1]}"}
              for i, (key, arn) in enumerate(http_api.route_keys(ROUTE_FUNCTIONS, CONTROL_ARN).items())]
    stage = {"StageName": "live", "AutoDeploy": True, "DefaultRouteSettings": dict(http_api.THROTTLE)}
    api = {"ApiId": "a1", "Name": NAMES.api, "ProtocolType": "HTTP",
           "RouteSelectionExpression": "${request.method} ${request.path}"}
    return {"api": api, "integrations": integrations,
            "routes": routes, "stages": [stage]}


class TestHttpApi:
    def test_a_new_api_gets_one_proxy_integration_per_function_every_route_and_a_throttled_stage(self) -> None:
        apigw = client("apigatewayv2")
        with Stubber(apigw) as stub:
            stub.add_response("get_apis", {"Items": []}, {})
            stub.add_response("create_api", {"ApiId": "a1", "Name": NAMES.api},
                              {"Name": NAMES.api, "ProtocolType": "HTTP", "Description": ANY})
            stub.add_response("get_integrations", {"Items": []}, {"ApiId": "a1"})
            for arn, integration in ((CONTROL_ARN, "i1"), (NAMES.function_arn(NAMES.function), "i2")):
                stub.add_response("create_integration", {"IntegrationId": integration}, {
                    "ApiId": "a1", "IntegrationType": "AWS_PROXY", "IntegrationMethod": "POST",
                    "IntegrationUri": arn, "PayloadFormatVersion": "2.0"})
            stub.add_response("get_routes", {"Items": []}, {"ApiId": "a1"})
            for key in http_api.route_keys(ROUTE_FUNCTIONS, CONTROL_ARN):
                target = "integrations/i2" if key == "ANY /recognize" else "integrations/i1"
                stub.add_response("create_route", {}, {"ApiId": "a1", "RouteKey": key, "Target": target,
                                                       "AuthorizationType": "NONE"})
            stub.add_response("get_stages", {"Items": []}, {"ApiId": "a1"})
            stub.add_response("create_stage", {}, {"ApiId": "a1", "StageName": "live", "AutoDeploy": True,
                                                   "DefaultRouteSettings": http_api.THROTTLE, "Description": ANY})
            info, changes = http_api.ensure_http_api(apigw, NAMES, ROUTE_FUNCTIONS, CONTROL_ARN)
            stub.assert_no_pending_responses()
        assert info == http_api.ApiInfo(api_id="a1", stage="live")
        assert [c.action.value for c in changes] == ["created", "created"]
        assert "$default" in http_api.route_keys(ROUTE_FUNCTIONS, CONTROL_ARN)  # unknown paths: JSON from the function

    def _listed(self, stub: Stubber, listings: dict[str, Any]) -> None:
        stub.add_response("get_apis", {"Items": [listings["api"]]}, {})
        stub.add_response("get_integrations", {"Items": listings["integrations"]}, {"ApiId": "a1"})
        stub.add_response("get_routes", {"Items": listings["routes"]}, {"ApiId": "a1"})
        stub.add_response("get_stages", {"Items": listings["stages"]}, {"ApiId": "a1"})

    def test_a_converged_api_is_left_alone(self) -> None:
        apigw = client("apigatewayv2")
        with Stubber(apigw) as stub:
            self._listed(stub, _converged_api())
            _, changes = http_api.ensure_http_api(apigw, NAMES, ROUTE_FUNCTIONS, CONTROL_ARN)
            stub.assert_no_pending_responses()
        assert [c.action.value for c in changes] == ["unchanged", "unchanged"]

    def test_the_stage_throttle_is_converged_and_a_stale_route_removed(self) -> None:
        apigw = client("apigatewayv2")
        listings = _converged_api()
        listings["routes"].append({"RouteId": "old", "RouteKey": "POST /gone", "Target": "integrations/x"})
        listings["stages"][0]["DefaultRouteSettings"] = {"ThrottlingRateLimit": 5.0, "ThrottlingBurstLimit": 100}
        with Stubber(apigw) as stub:
            stub.add_response("get_apis", {"Items": [listings["api"]]}, {})
            stub.add_response("get_integrations", {"Items": listings["integrations"]}, {"ApiId": "a1"})
            stub.add_response("get_routes", {"Items": listings["routes"]}, {"ApiId": "a1"})
            stub.add_response("delete_route", {}, {"ApiId": "a1", "RouteId": "old"})
            stub.add_response("get_stages", {"Items": listings["stages"]}, {"ApiId": "a1"})
            stub.add_response("update_stage", {}, {"ApiId": "a1", "StageName": "live", "AutoDeploy": True,
                                                   "DefaultRouteSettings": http_api.THROTTLE})
            _, changes = http_api.ensure_http_api(apigw, NAMES, ROUTE_FUNCTIONS, CONTROL_ARN)
            stub.assert_no_pending_responses()
        assert [c.action.value for c in changes] == ["updated", "updated"]


class TestDeviceRegistry:
    """Device keys live in the devices table only: a device's as its hash, the developer's kept for every deploy."""

    @pytest.fixture
    def table(self, mocked_aws: None) -> Any:
        from services import tables

        tables.ensure_table(boto3.client("dynamodb"), tables.devices_table(NAMES.devices_table))
        return boto3.resource("dynamodb").Table(NAMES.devices_table)

    def test_a_device_key_is_random_and_only_its_hash_is_stored(self, table: Any) -> None:
        from facegate_contract import api_key_hash

        first = device_registry.add_device(table, NAMES, "door-1")
        second = device_registry.add_device(table, NAMES, "door-2")
        assert first.api_key != second.api_key and len(first.api_key) >= 40
        item = table.get_item(Key={"key_hash": api_key_hash(first.api_key)})["Item"]
        assert item["device_id"] == "door-1" and first.api_key not in json.dumps(item, default=str)

    def test_an_existing_device_is_refused_and_remove_revokes(self, table: Any) -> None:
        device_registry.add_device(table, NAMES, "door-1")
        with pytest.raises(device_registry.DeviceError, match="exists already"):
            device_registry.add_device(table, NAMES, "door-1")
        assert device_registry.remove_device(table, NAMES, "door-1").action.value == "deleted"
        assert device_registry.remove_device(table, NAMES, "door-1").action.value == "absent"
        assert device_registry.list_devices(table) == []

    def test_the_developer_key_is_the_same_on_every_deploy_and_listed_without_keys(self, table: Any) -> None:
        first, created = device_registry.ensure_developer_key(table, NAMES)
        again, unchanged = device_registry.ensure_developer_key(table, NAMES)
        assert (created.action.value, unchanged.action.value) == ("created", "unchanged")
        assert again.api_key == first.api_key
        device_registry.add_device(table, NAMES, "door-1")
        listed = device_registry.list_devices(table)
        assert [d["device_id"] for d in listed] == [NAMES.developer_device, "door-1"]
        assert all("api_key" not in d and first.api_key not in str(d) for d in listed)


class TestPartitions:
    def test_every_arn_is_in_the_stacks_partition(self) -> None:
        document = json.dumps([lambda_role.access_policy(CHINA), lambda_role.control_policy(CHINA)])
        arns = [a for a in document.replace('"', " ").split() if a.startswith("arn:")]
        assert arns and all(a.startswith("arn:aws-cn:") for a in arns), arns
        assert http_api.invoke_source_arn(CHINA, "a1").startswith("arn:aws-cn:execute-api:cn-north-1:")

    def test_the_partition_comes_from_the_region(self) -> None:
        assert Target(region="cn-north-1").partition == "aws-cn"
        assert Target(region="us-gov-west-1").partition == "aws-us-gov"
        assert Target(endpoint_url="http://localhost:4566", region="cn-north-1").partition == "aws"

    def test_a_region_typo_is_reported_before_any_call(self) -> None:
        with pytest.raises(UnknownRegion, match="eu-west-1"):
            Target.from_options(None, None, "eu-wst-1")


class TestRoleAndBucket:
    def test_the_role_may_list_the_models_prefix_only_so_a_missing_pointer_is_a_404(self) -> None:
        statements = {s["Sid"]: s for s in lambda_role.access_policy(NAMES)["Statement"]}
        listing = statements["ListModelArtifacts"]
        assert listing["Action"] == ["s3:ListBucket"]
        assert listing["Condition"] == {"StringLike": {"s3:prefix": ["models/*"]}}
        assert all(not a.endswith("*") for s in statements.values() for a in s["Action"])  # no wildcard actions

    def test_each_function_can_do_only_its_own_job(self) -> None:
        actions = lambda policy: {a for s in policy["Statement"] for a in s["Action"]}  # noqa: E731
        recognizer, control = actions(lambda_role.access_policy(NAMES)), actions(lambda_role.control_policy(NAMES))
        assert "s3:PutObject" not in recognizer and "dynamodb:UpdateItem" not in recognizer  # no clips, no tagging
        assert not {"s3:ListBucket", "s3:GetObject"} <= control or all(  # no models for the control function
            "models/" not in str(s["Resource"]) for s in lambda_role.control_policy(NAMES)["Statement"])

    def test_the_bucket_refuses_requests_without_tls(self) -> None:
        s3 = client("s3", "us-east-1")
        arn = "arn:aws:s3:::b"
        encryption = {"ServerSideEncryptionConfiguration": {"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}
        lifecycle = {"Rules": [{"ID": "expire-clips", "Status": "Enabled", "Expiration": {"Days": 30}}]}
        with Stubber(s3) as stub:
            stub.add_response("head_bucket", {})
            stub.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True}})
            stub.add_response("get_bucket_encryption", encryption)
            stub.add_response("get_bucket_lifecycle_configuration", lifecycle)
            stub.add_client_error("get_bucket_policy", "NoSuchBucketPolicy")
            stub.add_response("put_bucket_policy", {}, {"Bucket": "b", "Policy": ANY})
            change = clip_bucket.ensure_bucket(s3, "b", "us-east-1", arn)
        assert "TLS-only policy" in change.detail
        [statement] = clip_bucket.tls_only_policy(arn)["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize(("endpoint", "region", "url"), [
    ("http://localhost:4566", "us-east-1", "http://localhost:4566/_aws/execute-api/a1/live"),
    ("http://localhost:4567/", "us-east-1", "http://localhost:4567/_aws/execute-api/a1/live"),
    (None, "eu-west-1", "https://a1.execute-api.eu-west-1.amazonaws.com/live"),
    (None, "cn-north-1", "https://a1.execute-api.cn-north-1.amazonaws.com.cn/live"),
], ids=["ministack", "localstack", "aws", "aws-cn"])
def test_the_invoke_url_is_right_for_each_emulator_and_aws(endpoint: str | None, region: str, url: str) -> None:
    assert stage_url("a1", "live", region, endpoint) == url
