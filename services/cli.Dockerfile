# The facegate CLI image: runs `facegate deploy` (and the device demo) inside compose.
#   docker build -f services/cli.Dockerfile -t facegate/cli:latest .
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
COPY wheels/cli/ /tmp/wheels/
COPY pyproject.toml README.md /src/
COPY services/ /src/services/
COPY pi_app/ /src/pi_app/
COPY recognizer/ /src/recognizer/
RUN set -eu; \
    if ls /tmp/wheels/*.whl >/dev/null 2>&1; then FIND="--no-index --find-links /tmp/wheels"; else FIND=""; fi; \
    python3 -m venv /opt/venv; \
    /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check $FIND "/src[deploy,device,recognizer]"; \
    site=$(/opt/venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])"); \
    rm -f "$site"/face_recognition_models/models/shape_predictor_68_face_landmarks.dat \
          "$site"/face_recognition_models/models/mmod_human_face_detector.dat

FROM ${BASE_IMAGE}
COPY --from=build /opt/venv /opt/venv
COPY fixtures/ /opt/facegate/fixtures/
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 FACEGATE_OUTPUTS=/state/outputs.json
WORKDIR /opt/facegate
ENTRYPOINT ["facegate"]
CMD ["--help"]
