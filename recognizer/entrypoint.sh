#!/bin/sh
# Lambda container entrypoint. On AWS, AWS_LAMBDA_RUNTIME_API is set and awslambdaric talks to
# the real runtime API. Locally (emulator, `docker run`), start the Runtime Interface Emulator
# which serves the invoke API on :8080 and runs awslambdaric under it.
set -e
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie /opt/venv/bin/python -m awslambdaric "$@"
fi
exec /opt/venv/bin/python -m awslambdaric "$@"
