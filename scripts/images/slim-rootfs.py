#!/usr/bin/env python3
"""Assemble the smallest root file system that runs a Python virtualenv: the Lambda image's last stage is
`FROM scratch` plus what this script writes into OUT.

    python3 slim-rootfs.py --out /out --venv /opt/venv [--botocore-services s3,dynamodb,sts] [--elf PATH ...]

Run it inside the base image the venv was built on (any glibc base: Debian, python:*-slim, Amazon Linux):
it asks the venv's own interpreter where the standard library is, and `ldd` which shared libraries are needed.

What OUT receives:
- the venv, trimmed: no pip/setuptools, no tests, ONNX Runtime without its C-API copy of the runtime
  (the Python binding links its own) and without its offline tools, botocore/boto3 data for the named
  services only, Pillow without the plugins a PNG/JPEG decoder never loads (AVIF, WebP, fonts, colour
  management, Tk) and their libraries;
- the interpreter (with every symlink on the way to it) and the standard library without tests, IDLE, Tk,
  ensurepip, lib2to3, distutils, pydoc topics and the test extension modules;
- every shared library `ldd` names for any ELF file in OUT (plus the files given with --elf), at the path
  the base has it (symlinked directories such as a merged /usr are recreated), an ld.so.cache for them
  (`ldconfig -r OUT`), glibc's NSS modules for host lookups, CA certificates, minimal passwd/group files
  and a world-writable /tmp;
- byte-code for every module (unchecked-hash .pyc: the file system of a Lambda is read-only, so the
  sources never change under them; no column tables).
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

STDLIB_DROP = {"test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "distutils",
               "pydoc_data", "venv", "sqlite3", "dbm", "curses", "turtle.py", "__phello__", "site-packages",
               "dist-packages", "unittest", "doctest.py", "pydoc.py", "xmlrpc", "wsgiref"}
DYNLOAD_DROP = re.compile(r"^(_test|_ctypes_test|xxlimited|_xxtestfuzz|_xxsubinterpreters|_tkinter|_sqlite3|_curses|"
                          r"_dbm|_gdbm|readline|nis|ossaudiodev|audioop|_crypt)")
VENV_DROP = ["pip", "pip-*", "setuptools", "setuptools-*", "pkg_resources", "_distutils_hack", "distutils-precedence.pth",
             "wheel", "wheel-*",
             # ONNX Runtime's declared dependencies that only its offline tools import (model conversion, ORT format)
             "google", "protobuf-*", "flatbuffers", "flatbuffers-*", "packaging", "packaging-*",
             # ONNX Runtime: the Python binding is self-contained; the C-API library beside it is for C users.
             "onnxruntime/capi/libonnxruntime.so*", "onnxruntime/tools", "onnxruntime/transformers",
             "onnxruntime/quantization", "onnxruntime/datasets", "onnxruntime/backend",
             # numpy: build and typing helpers, headers and static libraries
             "numpy/f2py", "numpy/_pyinstaller", "numpy/_core/include", "numpy/_core/lib", "numpy/random/lib",
             "numpy/random/_examples", "numpy/doc", "numpy/_core/tests", "numpy/typing/tests",
             "numpy/_core/_simd.*",  # numpy's SIMD test module
             # Pillow: frames are PNG or JPEG (recognizer.image_decode); these plugins are never loaded
             "PIL/_avif.*", "PIL/_webp.*", "PIL/_imagingft.*", "PIL/_imagingtk.*", "PIL/_imagingcms.*",
             "pillow.libs/libavif-*", "pillow.libs/libwebp*", "pillow.libs/libsharpyuv-*", "pillow.libs/libfreetype-*",
             "pillow.libs/libharfbuzz-*", "pillow.libs/libbrotli*", "pillow.libs/libpng16-*", "pillow.libs/liblcms2-*"]
TREE_DROP = {"tests", "test", "__pycache__"}


def log(message: str) -> None:
    print(f"[slim-rootfs] {message}", flush=True)


def du(path: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total / 1e6


def remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def replicate(src: str, out: Path) -> None:
    """Copy `src` into `out` at the same path. A symlink met on the way (a directory such as /lib -> usr/lib, or
    the file itself) is recreated as the same symlink and the walk goes on through its target."""
    parts = Path(src).parts
    current = Path("/")
    for index, part in enumerate(parts[1:], start=1):
        current = current / part
        dest = out / current.relative_to("/")
        if current.is_symlink():
            target = os.readlink(current)
            if not os.path.lexists(dest):
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(target, dest)
            resolved = os.path.normpath(os.path.join(current.parent, target))
            replicate(os.path.join(resolved, *parts[index + 1:]), out)
            return
        if index < len(parts) - 1 or current.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        elif not dest.exists():
            shutil.copy2(current, dest)


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed_libraries(elf: Path) -> set[str]:
    """Absolute paths `ldd` resolves for an ELF file (empty for static binaries)."""
    run = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        if "not a dynamic executable" in run.stdout + run.stderr or "statically linked" in run.stdout:
            return set()
        raise SystemExit(f"ldd {elf} failed: {run.stdout}{run.stderr}")
    found = set()
    for line in run.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            raise SystemExit(f"{elf}: {line}")
        match = re.search(r"=>\s+(/\S+)", line) or re.match(r"(/\S+)\s+\(", line)
        if match:
            found.add(match.group(1))
    return found


def trim_venv(site: Path, botocore_services: set[str]) -> None:
    for pattern in VENV_DROP:
        for path in glob.glob(str(site / pattern)):
            remove(Path(path))
    for root, dirs, _files in os.walk(site):
        for name in [d for d in dirs if d in TREE_DROP]:
            shutil.rmtree(os.path.join(root, name))
            dirs.remove(name)
    for package in ("botocore", "boto3"):
        data = site / package / "data"
        if data.is_dir():
            for entry in data.iterdir():
                if entry.is_dir() and entry.name not in botocore_services:
                    shutil.rmtree(entry)
    slim_botocore_data(site / "botocore" / "data", botocore_services)
    for pyi in site.rglob("*.pyi"):
        pyi.unlink()


def _without_docs(node):
    """The same model with every documentation text emptied (botocore reads some of those keys: they stay)."""
    if isinstance(node, dict):
        return {k: ("" if k in ("documentation", "documentationUrl") and isinstance(v, str) else _without_docs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_without_docs(v) for v in node]
    return node


def slim_botocore_data(data: Path, services: set[str]) -> None:
    """botocore parses these JSON files when a client is created (a cold start pays for it): keep them with empty
    documentation texts (docstrings are all that show them), compact and uncompressed (the loader prefers .json to .json.gz), drop
    the examples, and keep the endpoints of the kept services only."""
    import gzip
    import json

    if not data.is_dir():
        return
    for path in sorted(data.rglob("*.json*")):
        if path.name.startswith("examples-1.json"):
            path.unlink()
            continue
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        model = json.loads(raw)
        if path.name == "endpoints.json":
            for partition in model.get("partitions", []):
                partition["services"] = {k: v for k, v in partition.get("services", {}).items() if k in services}
        target = path.with_suffix("") if path.suffix == ".gz" else path
        path.unlink()
        target.write_text(json.dumps(_without_docs(model), separators=(",", ":")))


def copy_stdlib(stdlib: Path, platstdlib: Path, out: Path) -> None:
    def ignore(directory: str, names: list[str]) -> list[str]:
        dropped = [n for n in names if n in STDLIB_DROP or n == "__pycache__" or n.startswith("config-")]
        if os.path.basename(directory) == "lib-dynload":
            dropped += [n for n in names if DYNLOAD_DROP.match(n)]
        return dropped

    for directory in dict.fromkeys([stdlib, platstdlib]):
        for parent in directory.parents:  # symlinked parents (e.g. /lib → usr/lib) come along
            if parent.is_symlink():
                replicate(str(parent), out)
        shutil.copytree(directory, out / directory.relative_to("/"), symlinks=True, ignore=ignore, dirs_exist_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--botocore-services", default="s3,dynamodb,sts")
    parser.add_argument("--elf", nargs="*", default=["/bin/sh"], help="more executables to carry with their libraries")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    # The venv, trimmed, at the same path.
    python = args.venv / "bin" / "python3"
    query = "import sysconfig; p = sysconfig.get_paths(); print(p['purelib']); print(p['stdlib']); print(p['platstdlib'])"
    info = subprocess.run([str(python), "-c", query],
                          capture_output=True, text=True, check=True).stdout.split()
    site, stdlib, platstdlib = Path(info[0]), Path(os.path.realpath(info[1])), Path(os.path.realpath(info[2]))
    venv_out = out / args.venv.relative_to("/")
    shutil.copytree(args.venv, venv_out, symlinks=True, dirs_exist_ok=True)
    site_out = venv_out / site.relative_to(args.venv)
    before = du(site_out)
    trim_venv(site_out, {s for s in args.botocore_services.split(",") if s})
    for script in (venv_out / "bin").iterdir():  # pip, activate scripts...: only the interpreter links stay
        if not script.name.startswith("python"):
            remove(script)
    log(f"venv {before:.0f} MB -> {du(site_out):.0f} MB")

    # The interpreter (through the venv's symlink chain) and the standard library.
    replicate(str(args.venv / "bin" / "python3"), out)
    copy_stdlib(stdlib, platstdlib, out)
    log(f"standard library {du(out / stdlib.relative_to('/')):.0f} MB ({stdlib})")

    # Executables the image runs besides Python (the entrypoint's shell), then every library any ELF needs.
    for extra in args.elf:
        replicate(extra, out)
    libraries: set[str] = set()
    elves = [p for p in out.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)]
    for elf in elves:
        libraries |= {lib for lib in needed_libraries(elf) if not lib.startswith(str(out) + "/")}
    # glibc loads these at run time (host name lookups) without naming them to ldd.
    for pattern in ("/lib*/*/libnss_files.so*", "/lib*/*/libnss_dns.so*", "/lib*/libnss_files.so*",
                    "/lib*/libnss_dns.so*", "/usr/lib*/*/libnss_files.so*", "/usr/lib*/*/libnss_dns.so*"):
        libraries |= set(glob.glob(pattern))
    for lib in sorted(libraries):
        replicate(lib, out)
    log(f"{len(elves)} ELF files need {len(libraries)} system libraries")

    # Loader configuration: every directory holding a copied library, cached (works for bases whose
    # libraries live outside the loader's default paths, e.g. /var/lang/lib).
    lib_dirs = sorted({os.path.dirname(os.path.realpath(lib)) for lib in libraries})
    (out / "etc").mkdir(exist_ok=True)
    (out / "etc" / "ld.so.conf").write_text("\n".join(lib_dirs) + "\n")
    ldconfig = shutil.which("ldconfig") or next((p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.path.exists(p)), None)
    if ldconfig:
        subprocess.run([ldconfig, "-r", str(out)], check=True)

    # Small files a process expects.
    for path in ("/etc/nsswitch.conf", "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if os.path.exists(path):
            replicate(path, out)
    (out / "etc" / "passwd").write_text("root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n")
    (out / "etc" / "group").write_text("root:x:0:\nnobody:x:65534:\n")
    (out / "tmp").mkdir(exist_ok=True)
    os.chmod(out / "tmp", 0o1777)

    # Byte-code for everything, recorded with the paths the image will have.
    targets = [str(out / p.relative_to("/")) for p in dict.fromkeys([stdlib, platstdlib])] + [str(site_out)]
    task = out / "var" / "task"
    if task.is_dir():
        targets.append(str(task))
    # Without column tables (PYTHONNODEBUGRANGES): smaller code objects load faster; tracebacks keep their lines.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    "-s", str(out), "-p", "/", *targets], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONNODEBUGRANGES": "1"})
    log(f"root file system {du(out):.0f} MB in {out}")


if __name__ == "__main__":
    main()
