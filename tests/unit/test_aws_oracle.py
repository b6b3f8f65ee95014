"""The strict-AWS harness checks what AWS checks: the IAM action and resource of a request as AWS documents them
(Service Authorization Reference), where moto names them otherwise."""
from __future__ import annotations

import pytest

from tests.aws_oracle.moto_server import deleted_objects, iam_action, request_resource

ARGS = ("eu-west-1", "123456789012", "aws")


@pytest.mark.parametrize(("service", "method", "path", "moto", "aws"), [
    ("apigateway", "POST", "/v2/apis", "CreateApi", "apigateway:POST"),
    ("apigateway", "PATCH", "/v2/apis/a1/stages/live", "UpdateStage", "apigateway:PATCH"),
    ("s3", "HEAD", "/b", "s3:HeadBucket", "s3:ListBucket"),
    ("s3", "GET", "/b?encryption", "s3:ListBucket", "s3:GetEncryptionConfiguration"),
    ("s3", "PUT", "/b?encryption", "s3:CreateBucket", "s3:PutEncryptionConfiguration"),
    ("s3", "PUT", "/b?publicAccessBlock", "s3:CreateBucket", "s3:PutBucketPublicAccessBlock"),
    ("s3", "GET", "/b/k", "s3:GetObject", "s3:GetObject"),
    ("dynamodb", "POST", "/", "dynamodb:Query", "dynamodb:Query"),
])
def test_the_action_is_the_one_iam_checks(service: str, method: str, path: str, moto: str, aws: str) -> None:
    assert iam_action(service, method, path, moto) == aws


@pytest.mark.parametrize(("service", "path", "body", "arn"), [
    ("lambda", "/2015-03-31/functions/facegate-control/policy", b"",
     "arn:aws:lambda:eu-west-1:123456789012:function:facegate-control"),
    ("lambda", "/2015-03-31/functions", b'{"FunctionName": "facegate-recognizer"}',
     "arn:aws:lambda:eu-west-1:123456789012:function:facegate-recognizer"),
    ("lambda", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Af%3A1", b"",
     "arn:aws:lambda:eu-west-1:123456789012:function:f"),
    ("dynamodb", "/", b'{"TableName": "facegate-people"}', "arn:aws:dynamodb:eu-west-1:123456789012:table/facegate-people"),
    ("ecr", "/", b'{"repositoryName": "facegate/recognizer"}',
     "arn:aws:ecr:eu-west-1:123456789012:repository/facegate/recognizer"),
    ("logs", "/", b'{"logGroupName": "/aws/lambda/f"}', "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f"),
    ("apigateway", "/v2/apis/a1/routes", b"", "arn:aws:apigateway:eu-west-1::/apis/a1/routes"),
    ("apigateway", "/v2/apis", b"", "arn:aws:apigateway:eu-west-1::/apis"),
])
def test_the_resource_is_derived_from_the_request(service: str, path: str, body: bytes, arn: str) -> None:
    assert request_resource(service, "GET", path, body, *ARGS) == arn


def test_a_call_that_names_no_resource_has_none() -> None:
    assert request_resource("ecr", "POST", "/", b"{}", *ARGS) is None
    assert request_resource("sts", "POST", "/", b"", *ARGS) is None


def test_a_delete_batch_is_authorised_per_object_and_version() -> None:
    body = (b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>clips/a.mp4</Key></Object>'
            b"<Object><Key>console/login.json</Key><VersionId>null</VersionId></Object><Quiet>true</Quiet></Delete>")
    assert deleted_objects("arn:aws:s3:::b", body) == [("s3:DeleteObject", "arn:aws:s3:::b/clips/a.mp4"),
                                                        ("s3:DeleteObjectVersion", "arn:aws:s3:::b/console/login.json")]
