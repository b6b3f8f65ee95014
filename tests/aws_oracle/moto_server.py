"""moto in server mode as a stricter AWS: TLS only, IAM enforced, with the harness's fixes for where moto departs
from AWS. Run as `python -m tests.aws_oracle.moto_server --port P --cert C --key K [--audit FILE]`.

moto validates requests the way AWS does (API Gateway's integration URIs, IAM documents, Lambda's parameters...)
and, with INITIAL_NO_AUTH_ACTION_COUNT set, checks every call against the caller's IAM policies. Where it
departs from AWS, this process corrects it before serving, and nothing in product code knows:

1. **Bucket policies and `aws:SecureTransport`.** moto ignores the condition, so a TLS-only bucket policy
   (Deny s3:* when SecureTransport is false) denies every object call. This server speaks only TLS, so every
   request is secure: statements denying non-TLS requests are dropped before moto evaluates a bucket policy.
2. (unused since the stack's API is an HTTP API: moto dropped a REST API's `binaryMediaTypes`.)
3. **API Gateway's IAM actions** are the HTTP methods of its management API (`apigateway:POST` on
   `arn:aws:apigateway:{region}::/apis/...` for an HTTP API, whose calls go to `/v2/apis/...`); moto checks the
   operation name (`apigateway:CreateApi`) on `*`. The harness checks what AWS checks.
   Likewise moto names some S3 actions by operation (`s3:HeadBucket`, `s3:GetPublicAccessBlock`) or not at all
   (bucket encryption and public access blocks are checked as ListBucket / CreateBucket), and it checks a DeleteObjects batch as
   s3:DeleteObject on the bucket, where AWS checks each object; the harness checks what AWS documents.
4. **Resource-level IAM.** moto knows the resource of S3 and IAM role calls only and checks the others on `*`,
   which no least-privilege statement matches. The harness derives the resource ARN of Lambda, DynamoDB,
   ECR and CloudWatch Logs calls from the request, as AWS does; a call whose resource it cannot derive is
   checked on its action alone (and the audit file says so).
5. **`iam:PassRole`** is not checked by moto when a function is created or configured with a role; AWS checks
   it (with `iam:PassedToService`). The harness does.

6. **Signatures of bodiless requests.** moto re-signs a bodiless GET, HEAD or DELETE with its parsed parameters as
   the payload, so every signed GET with path parameters (Lambda's GetFunction...) fails with
   SignatureDoesNotMatch. The harness re-signs the bytes that were sent, as AWS does.

Every authorisation (principal, action, resource, verdict) is appended to the audit file as a JSON line, so a
test can compare what the commands used with the policy they ran under.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_AUDIT_LOCK = threading.Lock()


def _audit(path: str | None, record: dict[str, Any]) -> None:
    if not path:
        return
    with _AUDIT_LOCK, open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def _json_body(body: bytes | str | None) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# moto's S3 action → the IAM action AWS authorises (Service Authorization Reference, Amazon S3).
S3_ACTIONS = {"s3:HeadBucket": "s3:ListBucket", "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
              "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
              "s3:DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock"}
S3_QUERY_ACTIONS = {("GET", "encryption"): "s3:GetEncryptionConfiguration",
                    ("PUT", "encryption"): "s3:PutEncryptionConfiguration",
                    ("DELETE", "encryption"): "s3:PutEncryptionConfiguration",
                    ("GET", "publicAccessBlock"): "s3:GetBucketPublicAccessBlock",
                    ("PUT", "publicAccessBlock"): "s3:PutBucketPublicAccessBlock",
                    ("DELETE", "publicAccessBlock"): "s3:PutBucketPublicAccessBlock"}


def iam_action(service: str, method: str, path: str, moto_action: str) -> str:
    """The IAM action AWS checks for a request that moto names `moto_action`."""
    if service == "apigateway":
        return f"apigateway:{method.upper()}"
    if service == "s3":
        query = set(parse_qs(urlsplit(path).query, keep_blank_values=True))
        for (verb, word), action in S3_QUERY_ACTIONS.items():
            if method.upper() == verb and word in query:
                return action
        return S3_ACTIONS.get(moto_action, moto_action)
    return moto_action


def deleted_objects(bucket_arn: str, body: bytes | str | None) -> list[tuple[str, str]]:
    """(action, object ARN) of each object a DeleteObjects request names: AWS authorises the batch per object,
    s3:DeleteObjectVersion where a version is named."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(body or b"")
    except ElementTree.ParseError:
        return []
    checks = []
    for item in root.iter():
        if item.tag.rsplit("}", 1)[-1] != "Object":
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in item}
        action = "s3:DeleteObjectVersion" if fields.get("VersionId") else "s3:DeleteObject"
        checks.append((action, f"{bucket_arn}/{fields.get('Key', '')}"))
    return checks


def request_resource(service: str, method: str, path: str, body: bytes | str | None, region: str, account: str,
                     partition: str) -> str | None:
    """The resource ARN AWS authorises a management call on, for the services moto checks on `*` (None when the
    request names none)."""
    url_path = unquote(urlsplit(path).path)
    data = _json_body(body)
    if service == "apigateway":  # API Gateway v2's calls go to /v2/apis/...; IAM names them /apis/...
        return f"arn:{partition}:apigateway:{region}::{re.sub(r'^/v2/', '/', url_path)}"
    if service == "lambda":
        match = re.match(r"^/\d{4}-\d\d-\d\d/functions/([^/]+)", url_path)
        name = match.group(1) if match else data.get("FunctionName")
        if not name:
            return None
        name = name.split(":function:")[-1].split(":")[0]  # an ARN or a qualified name → the function's name
        return f"arn:{partition}:lambda:{region}:{account}:function:{name}"
    if service == "dynamodb":
        table = data.get("TableName") or next(iter(data.get("RequestItems") or {}), None)
        return f"arn:{partition}:dynamodb:{region}:{account}:table/{table}" if table else None
    if service == "ecr":
        repository = data.get("repositoryName")
        return f"arn:{partition}:ecr:{region}:{account}:repository/{repository}" if repository else None
    if service == "logs":
        group = data.get("logGroupName")
        return f"arn:{partition}:logs:{region}:{account}:log-group:{group or '*'}"
    return None


def _apply_patches(audit_path: str | None) -> None:
    from moto.core.exceptions import AccessDeniedError
    from moto.iam import access_control
    from moto.s3.models import FakeBucket
    from moto.utilities.utils import get_partition

    # 1. aws:SecureTransport: every request to this server came over TLS.
    original_get_permission = FakeBucket.get_permission

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return original_get_permission(self, action, resource)
        document = json.loads(self.policy)
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        kept = [s for s in statements
                if str(((s.get("Condition") or {}).get("Bool") or {}).get("aws:SecureTransport", "")).lower() != "false"]
        if not kept:
            return access_control.PermissionResult.NEUTRAL
        saved = self.policy
        try:
            self.policy = json.dumps({**document, "Statement": kept}).encode()
            return original_get_permission(self, action, resource)
        finally:
            self.policy = saved

    FakeBucket.get_permission = get_permission

    # 3-5. What AWS authorises: API Gateway's HTTP-method actions, resources from the request, iam:PassRole.
    original_match = access_control.IAMPolicyStatement._check_element_matches

    def check_element_matches(self: Any, element: str, value: str) -> bool:
        if element == "Resource" and value == "*":
            return True  # moto could not tell the resource: the action alone is checked (see the audit file)
        return original_match(self, element, value)

    access_control.IAMPolicyStatement._check_element_matches = check_element_matches

    def verdict(request: Any, action: str, resource: str, conditions: dict[str, str] | None = None) -> bool:
        permitted = False
        for policy in request._access_key.collect_policies():
            result = access_control.IAMPolicy(policy).is_action_permitted(action, resource, None, conditions)
            if result == access_control.PermissionResult.DENIED:
                return False
            permitted = permitted or result == access_control.PermissionResult.PERMITTED
        return permitted

    original_check = access_control.IAMRequestBase.check_action_permitted

    def check_action_permitted(self: Any, resource: str) -> None:
        partition = get_partition(self._region)
        derived = request_resource(self._service, self._method, self._path, self._body, self._region,
                                   self.account_id, partition)
        self._action = iam_action(self._service, self._method, self._path, self._action)
        if derived and resource == "*":
            resource = derived
        checks: list[tuple[str, str, dict[str, str] | None]] = [(self._action, resource, None)]
        if self._service == "s3" and self._method.upper() == "POST" and "delete" in parse_qs(
                urlsplit(self._path).query, keep_blank_values=True):
            checks = [(action, arn, None) for action, arn in deleted_objects(resource, self._body)]
        if self._action in ("lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"):
            role = _json_body(self._body).get("Role")
            if role:
                checks.append(("iam:PassRole", role, {"iam:PassedToService": "lambda.amazonaws.com"}))
        principal = getattr(self._access_key, "arn", "?")
        for action, on, conditions in checks:
            allowed = self._action == "sts:GetCallerIdentity" or verdict(self, action, on, conditions)
            _audit(audit_path, {"principal": principal, "action": action, "resource": on, "allowed": allowed})
            if not allowed:
                if self.__class__.__name__ == "S3IAMRequest":
                    self._raise_access_denied()
                raise AccessDeniedError(user_arn=principal, action=f"{action} on resource: {on}")
        if self._action.startswith("sts:AssumeRole"):  # moto's own trust-policy check of the role
            original_check(self, resource)

    access_control.IAMRequestBase.check_action_permitted = check_action_permitted

    # 6. The signature covers the bytes sent: an empty body is an empty payload.
    original_aws_request = access_control.IAMRequestBase._create_aws_request

    def create_aws_request(self: Any) -> Any:
        request = original_aws_request(self)
        if not self._body and self._method.upper() in ("GET", "HEAD", "DELETE"):
            request.data = b""  # (a form POST's parameters are its body: moto's own reconstruction is right)
        return request

    access_control.IAMRequestBase._create_aws_request = create_aws_request


def main() -> None:
    """Serve moto on loopback over TLS with the harness's corrections."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--audit", default=os.environ.get("FACEGATE_ORACLE_AUDIT"))
    args = parser.parse_args()
    _apply_patches(args.audit)
    from moto import server

    server.main(["--host", "127.0.0.1", "--port", str(args.port), "--ssl-cert", str(args.cert),
                 "--ssl-key", str(args.key)])


if __name__ == "__main__":
    main()
