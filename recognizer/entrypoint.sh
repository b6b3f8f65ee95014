#!/bin/sh
# Lambda container entrypoint.
# On AWS, AWS_LAMBDA_RUNTIME_API is set: awslambdaric talks to the real Runtime API, and the runtime (with the
# handler's init) starts with the execution environment.
# Locally (emulator, `docker run`) the Runtime Interface Emulator serves the invoke API on :8080. It starts the
# runtime only at the first invoke, adding the whole init to that request. The image built for the emulator
# (build arg IMAGE_FOR=emulator) carries recognizer/emulator/eager_runtime.py: then the runtime starts here with
# the container, as on AWS, and the RIE's runtime command only connects to it. FACEGATE_EAGER_INIT=0 keeps the
# RIE's own way (init inside the first invoke); the AWS image (the default) has only that way.
set -e
PYTHON=/opt/venv/bin/python
if [ -n "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec "$PYTHON" -m awslambdaric "$@"
fi
EAGER=/opt/facegate/eager_runtime.py
if [ "${FACEGATE_EAGER_INIT:-1}" != "0" ] && [ -f "$EAGER" ] && [ "$#" -eq 1 ]; then
  "$PYTHON" "$EAGER" preload "$1" &
  exec /usr/local/bin/aws-lambda-rie "$PYTHON" -I -S "$EAGER" attach "$1"
fi
exec /usr/local/bin/aws-lambda-rie "$PYTHON" -m awslambdaric "$@"
