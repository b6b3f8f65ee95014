"""The wire contract shared by facegate's three roles: the deployer (`services`), the device (`pi_app`) and the
recognizer Lambda (`recognizer`).

Each role installs alone and none imports another; what they must agree on lives here, and this module imports
nothing of ours: the API's routes and headers, S3 prefixes, the `unknown` label, label and device-id rules, the
Lambda's environment names, the log format, how the tables' items read back, and the two files one role writes for
another (the deploy outputs and a device file).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

# ---- the API --------------------------------------------------------------------------------------------------
RECOGNIZE_PATH = "/recognize"  # POST a JPEG/PNG frame; answers faces with names
UPLOADS_PATH = "/uploads"  # POST {clip}: a presigned PUT URL for the calling device's own clip key
VISITS_PATH = "/visits"  # POST a visit report from the device (decision, clips, sightings)
CLIP_LINKS_PATH = "/clip-links"  # POST {key, expires_in}: a presigned GET URL of one of the device's clips
# Links are signed with the Lambda role's temporary credentials, which end within hours whatever a URL says.
CLIP_LINK_MAX_EXPIRES_S = 12 * 3600
API_KEY_HEADER = "x-api-key"
CLIP_KEY_HEADER = "X-Facegate-Clip-Key"  # which clip a recognised frame came from (stored with the sighting)
FRAME_MEDIA_TYPES = ("image/jpeg", "image/png")
# The largest frame the API takes. Base64 in the Lambda event (API Gateway's binary media types) must stay under
# Lambda's 6 MB invoke limit, which neither API Gateway nor the function can answer for: clients keep under this.
MAX_FRAME_BYTES = 4 * 1024 * 1024

# ---- S3 ---------------------------------------------------------------------------------------------------------
CLIPS_PREFIX = "clips/"  # clips/<device-id>/<YYYY>/<MM>/<DD>/<clip-id>.mp4
MODELS_PREFIX = "models/"  # models/versions/<id>/..., models/current.json
CLIP_CONTENT_TYPE = "video/mp4"

# ---- names ------------------------------------------------------------------------------------------------------
UNKNOWN = "unknown"  # the answer for a face that matches nobody enrolled
LABEL_RE = re.compile(r"^[A-Za-z][A-Za-z'\-]*(_[A-Za-z][A-Za-z'\-]*)+$")  # First_Last
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")  # safe in an S3 key, a header and a file name


def is_label(value: str) -> bool:
    """True for a person label in First_Last form (letters, apostrophes and hyphens, joined by underscores)."""
    return bool(LABEL_RE.match(value))


def is_device_id(value: str) -> bool:
    """True for ids safe in an S3 key and an HTTP header: letters, digits, `.`, `_`, `-`; at most 63."""
    return bool(DEVICE_ID_RE.match(value))


CLIP_ID_RE = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-\d{6,}$")  # <UTC stamp>-<seq>: 20261123T231158.500Z-000042


VISIT_ID_RE = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$")  # <UTC stamp>-<8 hex>: sorts by start time
VISIT_PARTITION = "#visit"  # visit summaries live in the sightings table under this partition, sorted by start
UNDECIDED = "undecided"  # a visit's decision before enough clips agree


def api_key_hash(api_key: str) -> str:
    """How the device registry knows a key without storing it: its SHA-256, hex."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def device_clips_prefix(device_id: str) -> str:
    """The only S3 prefix a device may write clips under."""
    return f"{CLIPS_PREFIX}{device_id}/"


def clip_key(device_id: str, clip: str) -> str:
    """Where a clip goes in the bucket: clips/<device-id>/<YYYY>/<MM>/<DD>/<clip-id>.mp4 (UTC day of the id)."""
    return f"{device_clips_prefix(device_id)}{clip[0:4]}/{clip[4:6]}/{clip[6:8]}/{clip}.mp4"


def parse_clip_key(key: str) -> tuple[str, str] | None:
    """(device id, clip id) of a well-formed clip key (the inverse of `clip_key`), else None."""
    parts = key.split("/")
    if len(parts) != 6 or f"{parts[0]}/" != CLIPS_PREFIX or not parts[5].endswith(".mp4"):
        return None
    device, clip = parts[1], parts[5][: -len(".mp4")]
    if not is_device_id(device) or not CLIP_ID_RE.match(clip) or clip_key(device, clip) != key:
        return None
    return device, clip


# ---- the Lambda's environment ------------------------------------------------------------------------------------
ENV_PEOPLE_TABLE = "FACEGATE_PEOPLE_TABLE"
ENV_SIGHTINGS_TABLE = "FACEGATE_SIGHTINGS_TABLE"
ENV_DEVICES_TABLE = "FACEGATE_DEVICES_TABLE"
ENV_BUCKET = "FACEGATE_MODEL_BUCKET"  # clips and models share the stack's bucket
ENV_MODEL_PREFIX = "FACEGATE_MODEL_PREFIX"
ENV_RETENTION_DAYS = "FACEGATE_RETENTION_DAYS"  # sightings expire with the clips
ENV_PRESIGN_ENDPOINT = "FACEGATE_PRESIGN_ENDPOINT"  # emulators: sign upload URLs for the host the device called
PRESIGN_REQUEST_HOST = "request-host"


# ---- logs: one JSON object per line ------------------------------------------------------------------------------
_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record and its `extra=` fields as one JSON line: ts, level, logger, msg, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_json_logging(level: str = "INFO", stream: TextIO | None = None, file: Path | None = None) -> None:
    """Send every log record as a JSON line to `file` (appended) or `stream` (default stdout), replacing any
    handler the runtime installed; AWS libraries are kept at WARNING."""
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# ---- where a stack's API lives ------------------------------------------------------------------------------------
def stage_url(api_id: str, stage: str, region: str, endpoint_url: str | None) -> str:
    """Invoke URL of a REST API stage: the emulators' path form (MiniStack and LocalStack both serve
    `/_aws/execute-api/<id>/<stage>`), or the real execute-api host of the region's partition."""
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/_aws/execute-api/{api_id}/{stage}"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{api_id}.execute-api.{region}.{suffix}/{stage}"


PRIVATE_FILE_MODE = 0o600  # secrets, and what the device keeps of visitors: owner only
PRIVATE_DIR_MODE = 0o700


def write_private_text(path: Path, text: str, on_disk: Callable[[int], None] | None = None) -> None:
    """Replace `path` atomically with an owner-only (0600) file holding `text`, whatever was there before.

    The temporary file is made fresh (a stale one from a crash is removed first, then O_EXCL, mode set with fchmod
    so no umask matters): an existing one would keep its own mode (say 0644) through the write and the rename.
    `on_disk(fd)` runs on the written file before the rename (an fsync, for writes that must survive a power cut).
    """
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
    return Path(os.environ.get("FACEGATE_OUTPUTS", DEFAULT_OUTPUTS))


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


# ---- the tables' items -----------------------------------------------------------------------------------------------
def plain_json(value: Any) -> Any:
    """A DynamoDB value as plain JSON types: its numbers (Decimal) as int or float, through lists and maps."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    return value


# ---- AWS sessions (boto3 is imported only when a session is made) ---------------------------------------------------
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def aws_session(endpoint_url: str | None, profile: str | None, region: str) -> Any:
    """A boto3 session for a stack: a named profile or the default chain; emulators accept any credentials, so
    fixed test ones are used there when none are configured."""
    import boto3

    session = boto3.Session(profile_name=profile, region_name=region)
    if endpoint_url and session.get_credentials() is None:
        session = boto3.Session(region_name=region, **EMULATOR_CREDENTIALS)
    return session
