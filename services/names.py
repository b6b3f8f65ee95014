"""Resource names of one facegate stack, derived from a prefix so several stacks can coexist."""
from __future__ import annotations

from dataclasses import dataclass

from services.target import Target


@dataclass(frozen=True)
class StackNames:
    """Every resource name the deploy, destroy and status commands act on."""

    prefix: str
    account_id: str
    region: str
    partition: str = "aws"

    @classmethod
    def for_target(cls, target: Target, prefix: str = "facegate") -> StackNames:
        """Names for `prefix` on `target` (the bucket name needs the account and region)."""
        return cls(prefix=prefix, account_id=target.account_id, region=target.region, partition=target.partition)

    def arn(self, service: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
        """An ARN in the stack's partition (aws, aws-cn, aws-us-gov...), never a hard-coded `arn:aws`."""
        return (f"arn:{self.partition}:{service}:{self.region if regional else ''}:"
                f"{self.account_id if account else ''}:{resource}")

    def function_arn(self, function: str) -> str:
        """The ARN of one of the stack's Lambda functions."""
        return self.arn("lambda", f"function:{function}")

    @property
    def bucket(self) -> str:
        """Clips and model artifacts; S3 names are global, so account and region are part of it."""
        return f"{self.prefix}-{self.account_id}-{self.region}"

    @property
    def people_table(self) -> str:
        return f"{self.prefix}-people"

    @property
    def sightings_table(self) -> str:
        return f"{self.prefix}-sightings"

    @property
    def devices_table(self) -> str:
        """Which device an API key belongs to (by the key's SHA-256, never the key itself)."""
        return f"{self.prefix}-devices"

    @property
    def role(self) -> str:
        return f"{self.prefix}-recognizer-role"

    @property
    def role_policy(self) -> str:
        return f"{self.prefix}-recognizer-access"

    @property
    def function(self) -> str:
        return f"{self.prefix}-recognizer"

    @property
    def control_function(self) -> str:
        """Upload URLs, clip links and visit reports: the same image, another command, no models."""
        return f"{self.prefix}-control"

    @property
    def control_role(self) -> str:
        return f"{self.prefix}-control-role"

    @property
    def control_role_policy(self) -> str:
        return f"{self.prefix}-control-access"

    @property
    def control_log_group(self) -> str:
        return f"/aws/lambda/{self.control_function}"

    @property
    def ecr_repository(self) -> str:
        return f"{self.prefix}/recognizer"

    @property
    def api(self) -> str:
        """The HTTP API's name."""
        return f"{self.prefix}-api"

    @property
    def stage(self) -> str:
        return "live"

    @property
    def developer_device(self) -> str:
        """The device id of the developer key that deploy makes (tests, the demo's enrolment checks, benchmarks)."""
        return f"{self.prefix}-developer"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    @property
    def invoke_permission(self) -> str:
        """Statement id of the permission that lets this stack's API invoke the function."""
        return f"{self.prefix}-apigateway-invoke"
