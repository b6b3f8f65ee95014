#!/usr/bin/env bash
# Resolve an image's Python dependencies on the host into wheels/<name>/ so the image build can
# install them with --no-index (pip inside a build container cannot reach the registry here).
#   scripts/images/wheelhouse.sh NAME PIP-ARGS...    e.g. recognizer -r recognizer/requirements.txt
# Call it once per group of arguments (e.g. once more with --no-deps for a single extra wheel).
# WHEEL_ARCH=aarch64 resolves for another CPU (an arm64 image built here under emulation): binary wheels only, for
# CPython 3.11 on glibc 2.36 (Debian bookworm), whatever the host runs.
set -euo pipefail
name="$1"; shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/wheels/$name"
mkdir -p "$dest"
target=()
if [ -n "${WHEEL_ARCH:-}" ] && [ "$WHEEL_ARCH" != "$(uname -m)" ]; then
  # pip does not widen an explicit manylinux_2_NN tag to older glibc versions: list every one bookworm can run.
  target=(--only-binary=:all: --python-version 3.11 --implementation cp --platform "manylinux2014_$WHEEL_ARCH")
  for glibc in $(seq 17 36); do target+=(--platform "manylinux_2_${glibc}_$WHEEL_ARCH"); done
fi
# Otherwise the host is the image's platform (CPython 3.11, glibc 2.36, x86_64), so plain resolution fits.
python3 -m pip download --quiet --disable-pip-version-check --prefer-binary "${target[@]}" -d "$dest" "$@" 2>&1 \
  | grep -v "^WARNING: Location" || true
count=$(ls "$dest"/*.whl 2>/dev/null | wc -l)
[ "$count" -gt 0 ] || { echo "wheelhouse $name is empty" >&2; exit 1; }
echo "wheelhouse $name: $count wheels, $(du -sh "$dest" | cut -f1)"
