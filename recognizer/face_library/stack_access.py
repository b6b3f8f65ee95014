"""Reach a deployed stack from training-time tools (enrol, publish, the demo, the console): the deploy outputs
name the bucket and tables, a boto3 session reaches them (emulator endpoint or an AWS profile)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facegate_contract import MODELS_PREFIX, StackOutputs, aws_session, default_outputs_path
from recognizer.classify.artifact_store import S3ArtifactStore
from recognizer.face_library.person_photos import PersonPhotos


@dataclass
class StackAccess:
    """A deployed stack's outputs with a session that reaches it."""

    outputs: StackOutputs
    session: Any

    @classmethod
    def open(cls, outputs_path: Path | None = None, endpoint_url: str | None = None,
             profile: str | None = None) -> StackAccess:
        """From the outputs file (default .facegate/outputs.json); `endpoint_url` reaches an emulator by another
        URL (e.g. a compose service name); `profile` only matters on real AWS."""
        outputs = StackOutputs.read(outputs_path or default_outputs_path()).seen_from(endpoint_url)
        session = aws_session(outputs.endpoint_url, None if outputs.endpoint_url else profile, outputs.region)
        return cls(outputs, session)

    def client(self, service: str) -> Any:
        """A boto3 client for `service` of this stack."""
        return self.session.client(service, endpoint_url=self.outputs.endpoint_url)

    def table(self, name: str) -> Any:
        """A DynamoDB Table resource."""
        return self.session.resource("dynamodb", endpoint_url=self.outputs.endpoint_url).Table(name)

    def model_store(self) -> S3ArtifactStore:
        """Where enrol and publish write model versions (and the Lambda reads them)."""
        return S3ArtifactStore(self.client("s3"), self.outputs.bucket, MODELS_PREFIX)

    def people(self) -> Any:
        """The `people` table (details the recognizer returns)."""
        return self.table(self.outputs.people_table)

    def photos(self) -> PersonPhotos:
        """The photos each person was enrolled from (the console's face library shows them)."""
        return PersonPhotos(self.client("s3"), self.outputs.bucket)
