"""The Lambdas' environment: the names deploy sets and the functions read."""
from __future__ import annotations

# ---- the Lambda's environment ------------------------------------------------------------------------------------
ENV_PEOPLE_TABLE = "FACEGATE_PEOPLE_TABLE"
ENV_SIGHTINGS_TABLE = "FACEGATE_SIGHTINGS_TABLE"
ENV_DEVICES_TABLE = "FACEGATE_DEVICES_TABLE"
ENV_BUCKET = "FACEGATE_MODEL_BUCKET"  # clips and models share the stack's bucket
ENV_MODEL_PREFIX = "FACEGATE_MODEL_PREFIX"
ENV_RETENTION_DAYS = "FACEGATE_RETENTION_DAYS"  # sightings expire with the clips
ENV_PRESIGN_ENDPOINT = "FACEGATE_PRESIGN_ENDPOINT"  # emulators: sign upload URLs for the host the device called
PRESIGN_REQUEST_HOST = "request-host"
