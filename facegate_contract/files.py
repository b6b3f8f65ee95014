"""The two files one role writes for another: the deploy outputs (the developer's tools) and a device file (the
Pi's whole configuration); and where a stack's API lives."""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from facegate_contract.api import (
    CLIP_LINKS_PATH,
    RECOGNIZE_PATH,
    UPLOAD_GRANTS_PATH,
    UPLOADS_PATH,
    VISITS_PATH,
)
from facegate_contract.naming import is_device_id
from facegate_contract.settings import cli_settings


# ---- where a stack's API lives ------------------------------------------------------------------------------------
def stage_url(api_id: str, stage: str, region: str, endpoint_url: str | None) -> str:
    """Invoke URL of an API stage: the emulators' path form (MiniStack and LocalStack both serve
    `/_aws/execute-api/<id>/<stage>`), or the real execute-api host of the region's partition."""
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/_aws/execute-api/{api_id}/{stage}"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{api_id}.execute-api.{region}.{suffix}/{stage}"


PRIVATE_FILE_MODE = 0o600  # secrets, and what the device keeps of visitors: owner only
PRIVATE_DIR_MODE = 0o700
# Writers of one path take turns (they share its temporary file): a lock per stripe of paths, not one for all files.
_WRITE_LOCKS = tuple(threading.Lock() for _ in range(64))


def write_private_text(path: Path, text: str, on_disk: Callable[[int], None] | None = None) -> None:
    """Replace `path` atomically with an owner-only (0600) file holding `text`, whatever was there before.

    The temporary file is made fresh (a stale one from a crash is removed first, then O_EXCL, mode set with fchmod
    so no umask matters): an existing one would keep its own mode (say 0644) through the write and the rename.
    `on_disk(fd)` runs on the written file before the rename (an fsync, for writes that must survive a power cut).
    Threads writing the same path take turns: the last one's text is the file's.
    """
    with _WRITE_LOCKS[hash(str(path)) % len(_WRITE_LOCKS)]:
        _replace_private_text(path, text, on_disk)


def _replace_private_text(path: Path, text: str, on_disk: Callable[[int], None] | None) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if on_disk is not None:
                on_disk(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically with owner-only permissions (these files hold API keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private_text(path, json.dumps(data, indent=2) + "\n")


class ContractFileError(ValueError):
    """An outputs or device file that is missing, unreadable or not of the expected shape."""

    friendly = True  # the CLI prints it as one line, no traceback
    exit_code = 2


def _read_fields(path: Path, cls: type, what: str, how_to_make: str) -> dict[str, Any]:
    if not path.exists():
        raise ContractFileError(f"no {what} at {path}: {how_to_make}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractFileError(f"cannot read the {what} {path}: {exc}") from exc
    names = {f.name for f in fields(cls)}
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    if not isinstance(data, dict) or not required <= set(data):
        missing = sorted(required - set(data)) if isinstance(data, dict) else sorted(required)
        raise ContractFileError(f"the {what} {path} lacks {', '.join(missing)}: {how_to_make}")
    return {k: v for k, v in data.items() if k in names}


DEFAULT_OUTPUTS = Path(".facegate/outputs.json")


def default_outputs_path() -> Path:
    """`FACEGATE_OUTPUTS` or `.facegate/outputs.json` under the working directory."""
    return cli_settings().outputs


@dataclass(frozen=True)
class StackOutputs:
    """What `facegate deploy` writes for the developer's own tools: where every resource is, and the developer
    API key. It holds a key: keep it private (written 0600). Devices get a device file instead."""

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
    devices_table: str = ""
    prefix: str = "facegate"
    device_id: str = "facegate-developer"  # the device the developer key stands for

    @classmethod
    def build(cls, *, region: str, endpoint_url: str | None, api_id: str, stage: str, api_key: str, bucket: str,
              people_table: str, sightings_table: str, function_name: str, devices_table: str = "",
              prefix: str = "facegate", device_id: str = "facegate-developer") -> StackOutputs:
        """Outputs with the invoke URLs derived from the API id, stage, region and endpoint."""
        api_url = stage_url(api_id, stage, region, endpoint_url)
        return cls(region=region, endpoint_url=endpoint_url, api_id=api_id, stage=stage, api_url=api_url,
                   recognize_url=api_url + RECOGNIZE_PATH, api_key=api_key, bucket=bucket, people_table=people_table,
                   sightings_table=sightings_table, function_name=function_name, devices_table=devices_table,
                   prefix=prefix, device_id=device_id)

    def seen_from(self, endpoint_url: str | None) -> StackOutputs:
        """The same stack addressed through another emulator URL (e.g. a compose service name)."""
        if not endpoint_url or self.endpoint_url is None:
            return self
        api_url = stage_url(self.api_id, self.stage, self.region, endpoint_url)
        return replace(self, endpoint_url=endpoint_url.rstrip("/"), api_url=api_url,
                       recognize_url=api_url + RECOGNIZE_PATH)

    def write(self, path: Path) -> None:
        """Write atomically with owner-only permissions."""
        _write_private(path, asdict(self))

    @classmethod
    def read(cls, path: Path) -> StackOutputs:
        """Load outputs; a missing file gets a message that says how to make one."""
        return cls(**_read_fields(Path(path), cls, "deploy outputs",
                                  "run `facegate deploy` first (or pass --outputs FILE)"))


@dataclass(frozen=True)
class DeviceFile:
    """A device's whole configuration, written by `facegate device add` and copied to the Pi: where the API is,
    the device's own API key, and its id. It holds no AWS credentials."""

    device_id: str
    api_url: str
    api_key: str
    region: str = ""

    @property
    def recognize_url(self) -> str:
        return self.api_url.rstrip("/") + RECOGNIZE_PATH

    @property
    def uploads_url(self) -> str:
        return self.api_url.rstrip("/") + UPLOADS_PATH

    @property
    def upload_grants_url(self) -> str:
        return self.api_url.rstrip("/") + UPLOAD_GRANTS_PATH

    @property
    def visits_url(self) -> str:
        return self.api_url.rstrip("/") + VISITS_PATH

    @property
    def clip_links_url(self) -> str:
        return self.api_url.rstrip("/") + CLIP_LINKS_PATH

    def write(self, path: Path) -> None:
        """Write atomically with owner-only permissions."""
        _write_private(path, asdict(self))

    @classmethod
    def read(cls, path: Path) -> DeviceFile:
        """Load and check a device file."""
        data = _read_fields(Path(path), cls, "device file", "make one with `facegate device add NAME`")
        device = cls(**data)
        if not is_device_id(device.device_id):
            raise ContractFileError(f"the device file {path} has an invalid device_id {device.device_id!r}")
        if not device.api_url.startswith(("http://", "https://")) or not device.api_key:
            raise ContractFileError(f"the device file {path} needs an http(s) api_url and an api_key")
        return device
