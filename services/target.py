"""Where the stack lives: an emulator endpoint or a real AWS account (profile / default chain)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

# Emulators accept any credentials; these are only used when none are configured.
_EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Target:
    """A deploy target: `endpoint_url` set means an emulator, otherwise real AWS."""

    endpoint_url: str | None = None
    profile: str | None = None
    region: str = DEFAULT_REGION

    @classmethod
    def from_options(cls, endpoint_url: str | None, profile: str | None, region: str | None) -> "Target":
        """Build a target from CLI options, falling back to the usual environment variables."""
        endpoint = endpoint_url or os.environ.get("FACEGATE_ENDPOINT_URL") or None
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        return cls(endpoint_url=endpoint.rstrip("/") if endpoint else None, profile=profile, region=region)

    @property
    def is_emulator(self) -> bool:
        """True when the stack is an emulator reached by endpoint URL."""
        return self.endpoint_url is not None

    @cached_property
    def session(self) -> boto3.Session:
        """A boto3 session for this target (named profile or the default credential chain)."""
        session = boto3.Session(profile_name=self.profile, region_name=self.region)
        if self.is_emulator and session.get_credentials() is None:
            session = boto3.Session(region_name=self.region, **_EMULATOR_CREDENTIALS)
        return session

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for `service`, pointed at the emulator when there is one."""
        retries = {"max_attempts": 5, "mode": "standard"}
        return self.session.client(
            service,
            endpoint_url=self.endpoint_url,
            config=Config(retries=retries, **config),
        )

    def resource(self, service: str) -> Any:
        """A boto3 resource (e.g. DynamoDB tables) for `service`, pointed at the emulator when there is one."""
        return self.session.resource(service, endpoint_url=self.endpoint_url)

    @cached_property
    def account_id(self) -> str:
        """The account id the credentials belong to (emulators answer a fixed one)."""
        return self.client("sts").get_caller_identity()["Account"]

    def describe(self) -> str:
        """A one-line, secret-free description for logs and tables."""
        where = f"emulator {self.endpoint_url}" if self.is_emulator else f"AWS profile {self.profile or '(default chain)'}"
        return f"{where}, region {self.region}"


def target_for_outputs(endpoint_url: str | None, region: str, profile: str | None = None) -> Target:
    """The target a deployed stack's outputs point at (profile only matters on real AWS)."""
    return Target(endpoint_url=endpoint_url, profile=None if endpoint_url else profile, region=region)
