"""The recognizer container image, shipped through ECR the same way to an emulator and to AWS.

Steps (one code path): create the repository (immutable tags, scan on push, a lifecycle policy keeping the last
images, a repository policy that lets Lambda pull), tag the local image with its content id, push it unless the
registry has that tag already, and hand the Lambda its registry URI and CPU architecture.

The one parameter that differs on an emulator is the registry host of the URI. AWS answers a repositoryUri on
`<account>.dkr.ecr.<region>.amazonaws.com`; MiniStack answers the same AWS-shaped URI but serves the Docker
Registry API on its own port, so there the URI is `<emulator host:port>/<repository>` (docker treats registries on
localhost as plain-HTTP without configuration). MiniStack's Lambda then pulls that URI through the docker engine.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from services.changes import Action, Change

DEFAULT_LOCAL_IMAGE = "facegate/recognizer:latest"
KEEP_IMAGES = 10  # the lifecycle policy expires older images; deploys keep working from the newest
# docker's name for the CPU architecture → Lambda's
LAMBDA_ARCHITECTURES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}


class ImageError(RuntimeError):
    """The recognizer image cannot be found, inspected or pushed."""

    friendly = True  # printed as one line by the CLI
    exit_code = 3


@dataclass(frozen=True)
class ResolvedImage:
    """An image in a registry the Lambda can be created from."""

    uri: str
    content_tag: str
    architecture: str  # x86_64 | arm64


def docker_client() -> Any:
    """A docker SDK client that answers, or ImageError saying how to start the engine."""
    try:
        import docker  # the docker SDK: the deploy extra
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImageError("the docker SDK is missing: pip install 'facegate[deploy]'") from exc
    try:
        client = docker.from_env()
        client.ping()
        return client
    except Exception as exc:
        raise ImageError(f"cannot reach the docker engine ({exc.__class__.__name__}): is dockerd running? "
                         "(scripts/ensure-docker starts it)") from exc


def content_tag(image: Any) -> str:
    """An immutable tag named after the image's content id: a rebuilt image is a new tag, an unchanged one is not."""
    return "img-" + image.id.split(":", 1)[1][:12]


def lambda_architecture(image: Any) -> str:
    """The Lambda architecture (x86_64 | arm64) of an image built on this machine, a Pi or a Mac."""
    arch = str(image.attrs.get("Architecture", "")).lower()
    if arch not in LAMBDA_ARCHITECTURES:
        raise ImageError(f"Lambda runs x86_64 or arm64 images; this image is {arch or 'of unknown architecture'}")
    return LAMBDA_ARCHITECTURES[arch]


def lifecycle_policy(keep: int = KEEP_IMAGES) -> dict[str, Any]:
    """Expire all but the newest `keep` images."""
    return {"rules": [{"rulePriority": 1, "description": f"keep the last {keep} images",
                       "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
                       "action": {"type": "expire"}}]}


def repository_policy(function_arns: list[str]) -> dict[str, Any]:
    """Let the Lambda service pull the image for these functions only (the stack's own, in its partition, region
    and account): the statement AWS documents for a container function's repository, narrowed from
    `function:*` to the functions that run the image."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "LambdaPull", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Condition": {"StringLike": {"aws:sourceArn": sorted(function_arns)}}}]}


def _json_equal(raw: str | None, wanted: dict[str, Any]) -> bool:
    try:
        return raw is not None and json.loads(raw) == wanted
    except ValueError:
        return False


def ensure_repository(ecr: Any, repository: str, pull_policy: dict[str, Any]) -> tuple[str, Change]:
    """Create or converge the repository and its `pull_policy`; returns (the registry's repositoryUri, change)."""
    created = False
    try:
        repo = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "RepositoryNotFoundException":
            raise
        repo = ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE",
                                     imageScanningConfiguration={"scanOnPush": True})["repository"]
        created = True
    updated = []
    try:
        current_lifecycle = ecr.get_lifecycle_policy(repositoryName=repository)["lifecyclePolicyText"]
    except ClientError:
        current_lifecycle = None
    if not _json_equal(current_lifecycle, lifecycle_policy()):
        ecr.put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=json.dumps(lifecycle_policy()))
        updated.append("lifecycle policy")
    try:
        current_policy = ecr.get_repository_policy(repositoryName=repository)["policyText"]
    except ClientError:
        current_policy = None
    if not _json_equal(current_policy, pull_policy):
        ecr.set_repository_policy(repositoryName=repository, policyText=json.dumps(pull_policy))
        updated.append("repository policy")
    if created:
        return repo["repositoryUri"], Change("ecr repository", repository, Action.CREATED,
                                             f"immutable tags, keeps the last {KEEP_IMAGES} images")
    action = Action.UPDATED if updated else Action.UNCHANGED
    return repo["repositoryUri"], Change("ecr repository", repository, action, ", ".join(updated))


def _push(client: Any, ecr: Any, image: Any, repo_uri: str, tag: str) -> None:
    auth = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
    image.tag(repo_uri, tag)
    for line in client.images.push(repo_uri, tag, stream=True, decode=True,
                                   auth_config={"username": user, "password": password}):
        if "error" in line:
            raise ImageError(f"pushing {repo_uri}:{tag} failed: {line['error']}")


def ensure_image(ecr: Any, repository: str, pull_policy: dict[str, Any], image_ref: str = DEFAULT_LOCAL_IMAGE,
                 registry_host: str | None = None) -> tuple[ResolvedImage, list[Change]]:
    """Push the local image `image_ref` to the repository (once per content) and return where the Lambda finds it.

    `pull_policy`: the repository policy (see `repository_policy`).
    `registry_host`: the emulator's host:port as the docker engine reaches it; None on AWS (the repositoryUri).
    """
    client = docker_client()
    try:
        image = client.images.get(image_ref)
    except Exception as exc:
        raise ImageError(f"recognizer image {image_ref} is not in the local docker engine: build it with "
                         "scripts/prepare-images (or docker compose build)") from exc
    repo_uri, repo_change = ensure_repository(ecr, repository, pull_policy)
    if registry_host:
        repo_uri = f"{registry_host}/{repository}"
    tag = content_tag(image)
    resolved = ResolvedImage(uri=f"{repo_uri}:{tag}", content_tag=tag, architecture=lambda_architecture(image))
    present = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}]).get("images")
    if present:
        return resolved, [repo_change, Change("ecr image", resolved.uri, Action.UNCHANGED)]
    _push(client, ecr, image, repo_uri, tag)
    if registry_host:
        # Drop the local registry tag so the emulator's Lambda really pulls the image from its registry.
        client.images.remove(resolved.uri, noprune=True)
    return resolved, [repo_change, Change("ecr image", resolved.uri, Action.CREATED, resolved.architecture)]


def delete_repository(ecr: Any, repository: str) -> Change:
    """Delete the ECR repository and its images."""
    try:
        ecr.delete_repository(repositoryName=repository, force=True)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
            return Change("ecr repository", repository, Action.ABSENT)
        raise
    return Change("ecr repository", repository, Action.DELETED)


def repository_exists(ecr: Any, repository: str) -> bool:
    """True when the repository exists."""
    try:
        ecr.describe_repositories(repositoryNames=[repository])
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
            return False
        raise
