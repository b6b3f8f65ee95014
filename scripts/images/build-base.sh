#!/usr/bin/env bash
# Build a minimal Debian bookworm + Python 3.11 base image without any container
# registry: debootstrap a rootfs from the Debian mirror and `docker import` it.
# Users with registry access never need this (Dockerfiles default to upstream bases).
#   scripts/images/build-base.sh [TAG] [ARCH]    ARCH: a Debian architecture (default: this machine's), e.g. arm64;
# a foreign one runs debootstrap's second stage under qemu user emulation (qemu-user-static, binfmt_misc).
set -euo pipefail

TAG="${1:-facegate/base:bookworm}"
ARCH="${2:-$(dpkg --print-architecture)}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "base image $TAG already present"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }

ROOTFS="$(mktemp -d /tmp/facegate-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT

echo "debootstrap bookworm (minbase, $ARCH) into $ROOTFS"
debootstrap --arch "$ARCH" --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || { tail -20 "$ROOTFS.log" >&2; exit 1; }
rm -f "$ROOTFS.log"

# Trim what a container never uses: apt lists, docs, man pages, locales.
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* \
       "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/cache/debconf/*-old

# The image's own architecture is what docker runs it as (and what a Lambda deploy reads).
tar -C "$ROOTFS" -c . | docker import --platform "linux/$ARCH" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' - "$TAG" >/dev/null
# docker 20.10's import keeps only the OS of --platform and labels the image with the engine's architecture.
"$(dirname "$0")/set-arch.py" "$TAG" "$ARCH" >/dev/null
echo "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
