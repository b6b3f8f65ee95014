"""Deploy the whole stack into the emulator and use it the way the device does."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from boto3.dynamodb.conditions import Key

from facegate_contract import StackOutputs, clip_key
from services import stack
from services.changes import any_changed
from services.lambda_role import access_policy, control_policy
from services.names import StackNames
from services.target import Target
from tests.conftest import FIXTURE_IMAGES
from tests.integration.conftest import post_frame
from tests.unit.bad_inputs import bad_inputs


def test_deploying_again_changes_nothing(target: Target, deployed: tuple[StackOutputs, Path]) -> None:
    again = stack.deploy(target, stack.DeployOptions(extra_environment={"FACEGATE_MODEL_REFRESH_S": "2"}))
    assert not any_changed(again.changes), [c for c in again.changes if c.changed]
    assert again.outputs.api_key == deployed[0].api_key


def test_enrolled_person_is_recognised_with_details_from_dynamodb(enrolled: StackOutputs, target: Target,
                                                                   probe_jpeg: bytes) -> None:
    deadline = time.time() + 60
    key = clip_key(enrolled.device_id, "20261129T120000.000Z-000001")
    while True:  # the Lambda follows the model pointer within its refresh period
        response = post_frame(enrolled, probe_jpeg, **{"X-Facegate-Device": "forged-cam", "X-Facegate-Clip-Key": key})
        assert response.status_code == 200, response.text
        body = response.json()
        if body["faces"] and body["faces"][0]["name"] != "unknown" or time.time() > deadline:
            break
        time.sleep(2)
    face = body["faces"][0]
    assert face["name"] == "Eileen_Collins"
    assert face["details"]["major"] == "Aerospace Engineering"
    assert face["details"]["email"] == "eileen.collins@example.org"
    assert body["model_version"] != "none"

    sightings = target.resource("dynamodb").Table(enrolled.sightings_table)
    items = sightings.query(KeyConditionExpression=Key("person").eq("Eileen_Collins"))["Items"]
    mine = [i for i in items if i["clip_key"] == key]
    assert mine and all(i["device"] == enrolled.device_id for i in mine)  # from the API key, not the forged header
    assert all(int(i["expires_at"]) > time.time() + 29 * 86400 for i in mine)


def test_frame_without_a_face_gives_no_faces(enrolled: StackOutputs) -> None:
    response = post_frame(enrolled, (FIXTURE_IMAGES / "no_face.jpg").read_bytes())
    assert response.status_code == 200 and response.json()["faces"] == []


def test_png_frames_pass_through_api_gateway_as_binary(enrolled: StackOutputs) -> None:
    import cv2

    png = cv2.imencode(".png", cv2.imread(str(FIXTURE_IMAGES / "probe_eileen_collins.jpg")))[1].tobytes()
    response = post_frame(enrolled, png, "image/png")
    assert response.status_code == 200 and response.json()["image"] == {"width": 320, "height": 344}


def test_stranger_comes_back_unknown(enrolled: StackOutputs, lfw_dev: Path) -> None:
    stranger = sorted((lfw_dev / "unknown").glob("*.jpg"))[3].read_bytes()
    response = post_frame(enrolled, stranger)
    assert response.status_code == 200
    assert response.json()["faces"][0]["name"] == "unknown"


@pytest.mark.parametrize("key", [None, "not-the-key"], ids=["no key", "wrong key"])
def test_request_without_the_api_key_is_rejected(deployed: tuple[StackOutputs, Path], probe_jpeg: bytes, key) -> None:
    response = post_frame(deployed[0], probe_jpeg, key=key)
    assert response.status_code == 403
    assert set(response.json()) == {"error", "message"}


@pytest.mark.parametrize("bad", bad_inputs((FIXTURE_IMAGES / "probe_eileen_collins.jpg").read_bytes()), ids=lambda b: b.kind)
def test_bad_input_through_the_api_is_a_4xx_json(deployed: tuple[StackOutputs, Path], bad) -> None:
    response = post_frame(deployed[0], bad.body, bad.content_type)
    assert response.status_code == bad.status, response.text
    assert response.json()["error"] == bad.error


def test_good_request_succeeds_after_bad_ones(deployed: tuple[StackOutputs, Path], probe_jpeg: bytes) -> None:
    response = post_frame(deployed[0], probe_jpeg)
    assert response.status_code == 200 and len(response.json()["faces"]) == 1


def test_bucket_is_private_encrypted_and_expires_clips(target: Target, deployed: tuple[StackOutputs, Path]) -> None:
    s3 = target.client("s3")
    bucket = deployed[0].bucket
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Filter"]["Prefix"] == "clips/" and rule["Expiration"]["Days"] == 30


@pytest.mark.parametrize("which", ["recognizer", "control"])
def test_each_lambda_role_has_only_its_least_privilege_policy(target: Target, deployed: tuple[StackOutputs, Path],
                                                             which: str) -> None:
    iam = target.client("iam")
    names = StackNames.for_target(target)
    role, policy_name, wanted = ((names.role, names.role_policy, access_policy(names)) if which == "recognizer" else
                                 (names.control_role, names.control_role_policy, control_policy(names)))
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [policy_name]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document == wanted
    actions = sorted({a for s in document["Statement"] for a in s["Action"]})
    assert actions == {
        "recognizer": ["dynamodb:GetItem", "dynamodb:PutItem", "logs:CreateLogStream", "logs:PutLogEvents",
                       "s3:GetObject", "s3:ListBucket"],
        "control": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
                    "logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:PutObject"]}[which]


def test_function_is_an_image_lambda_from_the_ecr_registry(target: Target, deployed: tuple[StackOutputs, Path]) -> None:
    fn = target.client("lambda").get_function(FunctionName=deployed[0].function_name)
    assert fn["Configuration"]["PackageType"] == "Image"
    assert fn["Configuration"]["Architectures"] == ["x86_64"]
    uri = fn["Code"]["ImageUri"]
    assert uri.startswith("localhost:4566/facegate/recognizer:img-")  # the emulator's registry, as docker reaches it
    tag = uri.rsplit(":", 1)[1]
    images = target.client("ecr").describe_images(repositoryName="facegate/recognizer")["imageDetails"]
    assert any(tag in i.get("imageTags", []) for i in images)
    ecr = target.client("ecr")
    assert json.loads(ecr.get_lifecycle_policy(repositoryName="facegate/recognizer")["lifecyclePolicyText"])["rules"]
    assert "lambda.amazonaws.com" in ecr.get_repository_policy(repositoryName="facegate/recognizer")["policyText"]


def test_destroy_leaves_nothing_behind(target: Target) -> None:
    prefix = "fgdestroy"
    stack.deploy(target, stack.DeployOptions(prefix=prefix))
    assert stack.leftovers(target, prefix), "the throwaway stack should exist before destroy"
    changes = stack.destroy(target, prefix)
    assert all(c.action.value in ("deleted", "absent") for c in changes)
    assert stack.leftovers(target, prefix) == []
    again = stack.destroy(target, prefix)
    assert all(c.action.value == "absent" for c in again)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_through_the_api_is_405(deployed: tuple[StackOutputs, Path], method: str) -> None:
    import requests

    outputs = deployed[0]
    response = requests.request(method, outputs.recognize_url, headers={"x-api-key": outputs.api_key}, timeout=60)
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_a_frame_without_a_content_type_still_arrives_whole(deployed: tuple[StackOutputs, Path],
                                                           probe_jpeg: bytes) -> None:
    import requests

    outputs = deployed[0]
    # An HTTP API base64-encodes a body that is not declared text, so the JPEG's bytes survive without a
    # Content-Type (a REST API passed them as text, and they did not): the frame is recognised like any other.
    response = requests.post(outputs.recognize_url, data=probe_jpeg, headers={"x-api-key": outputs.api_key,
                                                                               "Content-Type": ""}, timeout=60)
    assert response.status_code == 200, response.text[:300]
    assert len(response.json()["faces"]) == 1


def test_unknown_path_is_a_4xx_json(deployed: tuple[StackOutputs, Path], probe_jpeg: bytes) -> None:
    import requests

    outputs = deployed[0]
    response = requests.post(outputs.api_url + "/detect", data=probe_jpeg,
                             headers={"x-api-key": outputs.api_key, "Content-Type": "image/jpeg"}, timeout=60)
    assert 400 <= response.status_code < 500
    assert "message" in response.json()
