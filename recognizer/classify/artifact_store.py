"""Model artifacts in S3: immutable versions plus a `current.json` pointer the Lambda follows.

Publishing a new version (training or enrolment) never needs a redeploy: the handler re-reads
the pointer at most every `refresh_s` seconds and loads the new classifier when it moved.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from recognizer.classify.open_set import OpenSetClassifier

POINTER = "current.json"
CLASSIFIER_FILE = "classifier.npz"
LABELS_FILE = "labels.json"
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class ModelVersion:
    version: str
    classifier: OpenSetClassifier
    pointer_etag: str | None = None  # the pointer as it was read: publishing on top of it checks nobody moved it


class PointerMoved(RuntimeError):
    """Another publisher moved the model pointer after it was read: redo the change on the newer model."""


# a conditional write that lost: another write won (412/409), or the pointer was deleted under an If-Match (404)
_POINTER_MOVED_CODES = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409", "NoSuchKey")
ANY_POINTER = object()  # publish(..., based_on=ANY_POINTER): replace whatever is current (shipping a trained model)


def new_version_id() -> str:
    """Sortable, unique version id."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


def write_local(directory: Path, classifier: OpenSetClassifier, metrics: dict[str, Any]) -> None:
    """Write the artifacts of one model into a folder (what `facegate train --out` produces)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CLASSIFIER_FILE).write_bytes(classifier.to_bytes())
    (directory / LABELS_FILE).write_text(json.dumps(classifier.labels, indent=2) + "\n")
    (directory / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")


def read_local(directory: Path) -> OpenSetClassifier:
    """Load the classifier written by write_local."""
    path = directory / CLASSIFIER_FILE
    if not path.exists():
        raise FileNotFoundError(f"no {CLASSIFIER_FILE} in {directory}: train a model first (facegate train)")
    return OpenSetClassifier.from_bytes(path.read_bytes())


class S3ArtifactStore:
    """Versions under `<prefix>versions/<id>/`, pointer at `<prefix>current.json`."""

    def __init__(self, s3: Any, bucket: str, prefix: str = "models/") -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._etag: str | None = None

    def publish(self, classifier: OpenSetClassifier, metrics: dict[str, Any],
                based_on: ModelVersion | None | object = ANY_POINTER) -> str:
        """Upload a new version and move the pointer to it; returns the version id.

        `based_on`: the version the change was made to (None: made when there was none). The pointer then moves only
        if it is still there (S3 conditional write), else PointerMoved: two enrolments at once must not lose one."""
        version = new_version_id()
        base = f"{self._prefix}versions/{version}/"
        self._put(base + CLASSIFIER_FILE, classifier.to_bytes(), "application/octet-stream")
        self._put(base + LABELS_FILE, json.dumps(classifier.labels).encode(), "application/json")
        self._put(base + METRICS_FILE, json.dumps(metrics).encode(), "application/json")
        pointer = {"version": version, "classifier_key": base + CLASSIFIER_FILE, "backend": classifier.backend,
                   "people": len(classifier.labels)}
        condition: dict[str, str] = {}
        if based_on is None:
            condition = {"IfNoneMatch": "*"}
        elif isinstance(based_on, ModelVersion) and based_on.pointer_etag:
            condition = {"IfMatch": based_on.pointer_etag}
        try:
            self._put(self._prefix + POINTER, json.dumps(pointer).encode(), "application/json", **condition)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _POINTER_MOVED_CODES:
                raise PointerMoved(f"the model moved on while version {version} was being made") from exc
            raise
        return version

    def _put(self, key: str, body: bytes, content_type: str, **condition: str) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type, **condition)

    def load_current(self) -> ModelVersion | None:
        """The version the pointer names, or None when nothing was published yet."""
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=self._prefix + POINTER)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NoSuchBucket"):
                return None
            raise
        pointer = json.loads(answer["Body"].read())
        payload = self._s3.get_object(Bucket=self._bucket, Key=pointer["classifier_key"])["Body"].read()
        return ModelVersion(pointer["version"], OpenSetClassifier.from_bytes(payload), answer.get("ETag"))

    def pointer_etag(self) -> str | None:
        """ETag of the pointer object (cheap change check), None when absent."""
        try:
            return self._s3.head_object(Bucket=self._bucket, Key=self._prefix + POINTER)["ETag"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound", "NoSuchBucket"):
                return None
            raise
