#!/usr/bin/env python3
"""Set the architecture a local image says it is (`docker image inspect -f '{{.Architecture}}'`).

    scripts/images/set-arch.py IMAGE ARCH        e.g. facegate/recognizer:arm64 arm64

Why: the Debian docker engine (20.10) writes its own architecture into every image it makes without a parent:
`docker import --platform linux/arm64` keeps only the OS, and the classic builder's `FROM scratch` stage (the lean
Lambda image) is labelled amd64 even when every file in it is arm64. The label is what `docker run` and a Lambda
deploy (`services.recognizer_image.lambda_architecture`) go by, so a cross-built image gets its real one here:
`docker save`, the image config's "architecture" rewritten, `docker load` under the same tag. Layers are untouched.
"""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# Docker's architecture names and the variant each implies (the OCI image spec's conventions).
VARIANTS = {"arm64": "v8", "amd64": None}


def relabel(image: str, arch: str) -> str:
    """Give `image` the architecture `arch`; returns the (new) image id. A no-op when it already has it."""
    current = subprocess.run(["docker", "image", "inspect", "-f", "{{.Architecture}}", image], check=True,
                             capture_output=True, text=True).stdout.strip()
    old_id = _image_id(image)
    if current == arch:
        return old_id
    with tempfile.TemporaryDirectory(prefix="facegate-set-arch-") as folder:
        saved, loaded = Path(folder) / "in.tar", Path(folder) / "out.tar"
        subprocess.run(["docker", "save", "-o", str(saved), image], check=True)
        with tarfile.open(saved) as source, tarfile.open(loaded, "w") as target:
            manifest = json.load(source.extractfile("manifest.json"))
            if len(manifest) != 1:
                raise SystemExit(f"{image}: expected one image in `docker save`, found {len(manifest)}")
            old_name = manifest[0]["Config"]
            config = json.load(source.extractfile(old_name))
            config["architecture"] = arch
            config.pop("variant", None)
            if VARIANTS.get(arch):
                config["variant"] = VARIANTS[arch]
            config_bytes = json.dumps(config, separators=(",", ":")).encode()
            new_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
            manifest[0]["Config"] = new_name
            manifest[0]["RepoTags"] = [image] if ":" in image.rsplit("/", 1)[-1] else [f"{image}:latest"]
            for member in source.getmembers():
                # The legacy `repositories` file and the old config are replaced by the manifest's new entries.
                if member.name in (old_name, "manifest.json", "repositories"):
                    continue
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
            for name, data in ((new_name, config_bytes), ("manifest.json", json.dumps(manifest).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                target.addfile(info, io.BytesIO(data))
        subprocess.run(["docker", "load", "-q", "-i", str(loaded)], check=True, stdout=subprocess.DEVNULL)
    # The mislabelled image is now untagged: drop it (refused, and kept, while other tags or images use it).
    subprocess.run(["docker", "rmi", old_id], check=False, capture_output=True)
    return _image_id(image)


def _image_id(image: str) -> str:
    return subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", image], check=True, capture_output=True,
                          text=True).stdout.strip()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in VARIANTS:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    print(f"{argv[0]}: {argv[1]} ({relabel(argv[0], argv[1])[:19]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
