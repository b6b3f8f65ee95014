#!/usr/bin/env bash
# Resolve an image's Python dependencies on the host into wheels/<name>/ so the image build can
# install them with --no-index (pip inside a build container cannot reach the registry here).
#   scripts/images/wheelhouse.sh NAME PIP-ARGS...    e.g. recognizer -r recognizer/requirements.txt
# Call it once per group of arguments (e.g. once more with --no-deps for a single extra wheel).
set -euo pipefail
name="$1"; shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/wheels/$name"
mkdir -p "$dest"
# The host is the image's platform (CPython 3.11, glibc 2.36, x86_64), so plain resolution fits.
python3 -m pip download --quiet --disable-pip-version-check --prefer-binary -d "$dest" "$@" 2>&1 | grep -v "^WARNING: Location" || true
count=$(ls "$dest"/*.whl 2>/dev/null | wc -l)
[ "$count" -gt 0 ] || { echo "wheelhouse $name is empty" >&2; exit 1; }
echo "wheelhouse $name: $count wheels, $(du -sh "$dest" | cut -f1)"
