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
from services import clip_bucket, deployer_policy, lambda_role, recognizer_function, recognizer_image, rest_api
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
    def test_the_integration_uri_has_the_documented_form(self, names: StackNames) -> None:
        """PutIntegration `uri` for AWS_PROXY to Lambda (API Gateway API reference, PutIntegration; developer guide,
        "Set up Lambda proxy integrations"): `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/
        {function-arn}/invocations` — the service field after the region, no account field."""
        function = names.function_arn(names.function)
        uri = rest_api.lambda_integration_uri(names, function)
        pattern = (rf"^arn:{names.partition}:apigateway:{names.region}:lambda:path/2015-03-31/functions/"
                   rf"(?P<function>arn:{names.partition}:lambda:{names.region}:\d{{12}}:function:[\w-]+)/invocations$")
        match = re.match(pattern, uri)
        assert match and match["function"] == function, uri
        assert "::lambda:" not in uri  # the empty account field AWS refused ("must contain path or action")

    def test_the_invoke_permission_names_this_apis_stage_in_the_execute_api_form(self) -> None:
        """Lambda AddPermission `SourceArn` for API Gateway (API Gateway developer guide, "execute-api ARN format"):
        `arn:{partition}:execute-api:{region}:{account-id}:{api-id}/{stage}/{http-method}/{resource-path}`."""
        arn = rest_api.invoke_source_arn(NAMES, "a1b2c3d4e5")
        assert re.match(r"^arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/live/\*/\*$", arn), arn
        china = rest_api.invoke_source_arn(CHINA, "a1b2c3d4e5")
        assert china.startswith("arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3d4e5/live/")

    def test_the_invoke_permission_is_granted_to_api_gateway_with_that_source(self) -> None:
        lam = client("lambda")
        source = rest_api.invoke_source_arn(NAMES, "a1b2c3d4e5")
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
                    assert re.match(r"^arn:aws:apigateway:eu-west-1::/(restapis|usageplans|apikeys)(/\*)?$", resource)
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


class TestApi:
    def test_the_usage_plan_throttle_is_converged_on_every_deploy(self) -> None:
        apigw = client("apigateway")
        plan = {"id": "p1", "name": NAMES.usage_plan, "throttle": {"rateLimit": 5.0, "burstLimit": 40},
                "apiStages": [{"apiId": "a1", "stage": "live"}]}
        with Stubber(apigw) as stub:
            stub.add_response("get_usage_plans", {"items": [plan]})
            stub.add_response("update_usage_plan", {}, {"usagePlanId": "p1", "patchOperations": [
                {"op": "replace", "path": "/throttle/rateLimit", "value": "20.0"}]})
            _, change = rest_api.ensure_usage_plan(apigw, NAMES, "a1")
        assert change.action.value == "updated"

    def test_a_converged_plan_is_left_alone(self) -> None:
        apigw = client("apigateway")
        plan = {"id": "p1", "name": NAMES.usage_plan, "throttle": dict(rest_api.THROTTLE),
                "apiStages": [{"apiId": "a1", "stage": "live"}]}
        with Stubber(apigw) as stub:
            stub.add_response("get_usage_plans", {"items": [plan]})
            _, change = rest_api.ensure_usage_plan(apigw, NAMES, "a1")
        assert change.action.value == "unchanged"


class TestPartitions:
    def test_every_arn_is_in_the_stacks_partition(self) -> None:
        document = json.dumps([lambda_role.access_policy(CHINA), lambda_role.control_policy(CHINA)])
        arns = [a for a in document.replace('"', " ").split() if a.startswith("arn:")]
        assert arns and all(a.startswith("arn:aws-cn:") for a in arns), arns
        assert rest_api.lambda_integration_uri(CHINA, "arn:aws-cn:lambda:x").startswith("arn:aws-cn:apigateway:")
        assert rest_api.invoke_source_arn(CHINA, "a1").startswith("arn:aws-cn:execute-api:cn-north-1:")

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
