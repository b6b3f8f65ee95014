"""The one outputs file that deploy writes and the device app and tests read."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from services.rest_api import RESOURCE_PATH, stage_url

DEFAULT_OUTPUTS = Path(".facegate/outputs.json")


def default_outputs_path() -> Path:
    """`FACEGATE_OUTPUTS` or `.facegate/outputs.json` under the working directory."""
    return Path(os.environ.get("FACEGATE_OUTPUTS", DEFAULT_OUTPUTS))


@dataclass(frozen=True)
class StackOutputs:
    """Everything a client needs to use a deployed stack. The file holds the API key: keep it private."""

    region: str
    endpoint_url: str | None
    api_id: str
    stage: str
    api_url: str
    recognize_url: str
    api_key: str
    bucket: str
    people_table: str
    sightings_table: str
    function_name: str

    @classmethod
    def build(cls, *, region: str, endpoint_url: str | None, api_id: str, stage: str, api_key: str,
              bucket: str, people_table: str, sightings_table: str, function_name: str) -> "StackOutputs":
        api_url = stage_url(api_id, stage, region, endpoint_url)
        return cls(region=region, endpoint_url=endpoint_url, api_id=api_id, stage=stage, api_url=api_url,
                   recognize_url=api_url + RESOURCE_PATH, api_key=api_key, bucket=bucket,
                   people_table=people_table, sightings_table=sightings_table, function_name=function_name)

    def seen_from(self, endpoint_url: str | None) -> "StackOutputs":
        """The same stack addressed through another emulator URL (e.g. a compose service name)."""
        if not endpoint_url or self.endpoint_url is None:
            return self
        api_url = stage_url(self.api_id, self.stage, self.region, endpoint_url)
        return replace(self, endpoint_url=endpoint_url, api_url=api_url, recognize_url=api_url + RESOURCE_PATH)

    def write(self, path: Path) -> None:
        """Write atomically with owner-only permissions (the file holds the API key)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.chmod(0o600)
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> "StackOutputs":
        """Load outputs; a missing file gets a message that says how to make one."""
        if not path.exists():
            raise FileNotFoundError(f"no deploy outputs at {path}: run `facegate deploy` first")
        return cls(**json.loads(path.read_text()))
