"""Where the stack lives: an emulator endpoint or a real AWS account (profile / default chain)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from botocore.config import Config

from facegate_contract import aws_session, describe_stack
from facegate_contract.settings import cli_settings

DEFAULT_REGION = "us-east-1"


class UnknownRegion(ValueError):
    """A region name AWS does not have (usually a typo)."""

    friendly = True  # printed as one line by the CLI
    exit_code = 2


@dataclass(frozen=True)
class Target:
    """A deploy target: `endpoint_url` set means an emulator, otherwise real AWS."""

    endpoint_url: str | None = None
    profile: str | None = None
    region: str = DEFAULT_REGION

    @classmethod
    def from_options(cls, endpoint_url: str | None, profile: str | None, region: str | None) -> Target:
        """Build a target from CLI options, falling back to the usual environment variables; on AWS the region
        must exist (a typo is reported now, not as a DNS failure later)."""
        settings = cli_settings()
        endpoint = endpoint_url or settings.endpoint_url
        region = region or settings.region or DEFAULT_REGION
        target = cls(endpoint_url=endpoint.rstrip("/") if endpoint else None, profile=profile, region=region)
        if not target.is_emulator:
            target.check_region()
        return target

    @property
    def is_emulator(self) -> bool:
        """True when the stack is an emulator reached by endpoint URL."""
        return self.endpoint_url is not None

    @cached_property
    def session(self) -> Any:
        """A boto3 session for this target (named profile or the default credential chain)."""
        return aws_session(self.endpoint_url, self.profile, self.region)

    def check_region(self) -> None:
        """Raise UnknownRegion unless some AWS partition has this region (botocore's endpoint data, offline)."""
        import boto3

        session = boto3.Session()
        known = {r for partition in session.get_available_partitions()
                 for r in session.get_available_regions("lambda", partition_name=partition, allow_non_regional=False)}
        if known and self.region not in known:
            close = difflib.get_close_matches(self.region, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UnknownRegion(f"AWS has no region {self.region!r}{hint}: pass --region R or set AWS_REGION")

    @cached_property
    def partition(self) -> str:
        """The ARN partition of the region: aws, aws-cn, aws-us-gov... (emulators answer as aws)."""
        if self.is_emulator:
            return "aws"
        return self.session.get_partition_for_region(self.region)

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for `service`, pointed at the emulator when there is one."""
        retries = {"max_attempts": 5, "mode": "standard"}
        return self.session.client(service, endpoint_url=self.endpoint_url, config=Config(retries=retries, **config))

    def resource(self, service: str) -> Any:
        """A boto3 resource (e.g. DynamoDB tables) for `service`, pointed at the emulator when there is one."""
        return self.session.resource(service, endpoint_url=self.endpoint_url)

    @cached_property
    def account_id(self) -> str:
        """The account id the credentials belong to (emulators answer a fixed one)."""
        return self.client("sts").get_caller_identity()["Account"]

    def describe(self) -> str:
        """A one-line, secret-free description for logs and tables."""
        return describe_stack(self.endpoint_url, self.profile, self.region)
