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

    @classmethod
    def for_target(cls, target: Target, prefix: str = "facegate") -> "StackNames":
        """Names for `prefix` on `target` (the bucket name needs the account and region)."""
        return cls(prefix=prefix, account_id=target.account_id, region=target.region)

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
    def role(self) -> str:
        return f"{self.prefix}-recognizer-role"

    @property
    def role_policy(self) -> str:
        return f"{self.prefix}-recognizer-access"

    @property
    def function(self) -> str:
        return f"{self.prefix}-recognizer"

    @property
    def ecr_repository(self) -> str:
        return f"{self.prefix}/recognizer"

    @property
    def rest_api(self) -> str:
        return f"{self.prefix}-api"

    @property
    def stage(self) -> str:
        return "live"

    @property
    def usage_plan(self) -> str:
        return f"{self.prefix}-devices"

    @property
    def api_key(self) -> str:
        return f"{self.prefix}-device-key"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"
