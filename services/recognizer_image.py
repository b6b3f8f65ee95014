"""Resolve the recognizer container image to an immutable ImageUri for the Lambda.

Emulator: the image stays in the local docker engine, tagged by its content id so a rebuilt
image changes the function and an unchanged one does not. AWS: the same tag pushed to ECR.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from services.changes import Action, Change

DEFAULT_LOCAL_IMAGE = "facegate/recognizer:latest"


class ImageError(RuntimeError):
    """The recognizer image cannot be found or pushed."""


@dataclass(frozen=True)
class ResolvedImage:
    """An image reference the Lambda can be created from."""

    uri: str
    content_tag: str


def _docker_client() -> Any:
    try:
        import docker  # the docker SDK: optional, only needed where images are deployed
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImageError("the docker SDK is missing: pip install 'facegate[deploy]'") from exc
    try:
        client = docker.from_env()
        client.ping()
        return client
    except Exception as exc:
        raise ImageError(f"cannot reach the docker engine ({exc}); is dockerd running?") from exc


def _content_tag(image: Any) -> str:
    return "img-" + image.id.split(":", 1)[1][:12]


def resolve_local(image_ref: str = DEFAULT_LOCAL_IMAGE) -> ResolvedImage:
    """Tag the local image with its content id and return that immutable reference."""
    client = _docker_client()
    try:
        image = client.images.get(image_ref)
    except Exception as exc:
        raise ImageError(
            f"recognizer image {image_ref} is not in the local docker engine: "
            "build it with scripts/prepare-images (or docker compose build)"
        ) from exc
    repository = image_ref.rsplit(":", 1)[0] if ":" in image_ref.split("/")[-1] else image_ref
    tag = _content_tag(image)
    image.tag(repository, tag)
    return ResolvedImage(uri=f"{repository}:{tag}", content_tag=tag)


def ensure_ecr_image(ecr: Any, repository: str, image_ref: str = DEFAULT_LOCAL_IMAGE) -> tuple[ResolvedImage, Change]:
    """Create the ECR repository if needed and push the local image under its content tag."""
    client = _docker_client()
    local = resolve_local(image_ref)
    created = False
    try:
        repo_uri = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]["repositoryUri"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "RepositoryNotFoundException":
            raise
        repo_uri = ecr.create_repository(
            repositoryName=repository,
            imageScanningConfiguration={"scanOnPush": True},
            imageTagMutability="IMMUTABLE",
        )["repository"]["repositoryUri"]
        created = True
    resolved = ResolvedImage(uri=f"{repo_uri}:{local.content_tag}", content_tag=local.content_tag)
    present = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": local.content_tag}])["images"]
    if present:
        return resolved, Change("ecr image", resolved.uri, Action.CREATED if created else Action.UNCHANGED)
    auth = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
    client.images.get(local.uri).tag(repo_uri, local.content_tag)
    for line in client.images.push(repo_uri, local.content_tag, stream=True, decode=True,
                                   auth_config={"username": user, "password": password}):
        if "error" in line:
            raise ImageError(f"push of {resolved.uri} failed: {line['error']}")
    return resolved, Change("ecr image", resolved.uri, Action.CREATED, "pushed")


def delete_ecr_repository(ecr: Any, repository: str) -> Change:
    """Delete the ECR repository and its images."""
    try:
        ecr.delete_repository(repositoryName=repository, force=True)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
            return Change("ecr repository", repository, Action.ABSENT)
        raise
    return Change("ecr repository", repository, Action.DELETED)
