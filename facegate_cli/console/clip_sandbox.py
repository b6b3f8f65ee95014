"""Decoding a clip a device uploaded, in a process of its own with hard limits.

A clip is untrusted input: a compromised device can upload any bytes under its prefix (up to the signed length,
facegate_contract.MAX_CLIP_BYTES), and OpenCV's FFmpeg parses them. The console holds deploy credentials, so it
never parses a clip in its own process: each decode runs in a child started from a clean fork server, with an
address-space and a CPU-time limit, a frame limit, and a wall-clock deadline after which the child is killed.
A clip that breaks any of them is refused (ClipRefused), and the console says so instead of crashing or hanging.
"""
from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from facegate_contract import MAX_CLIP_BYTES


@dataclass(frozen=True)
class DecodeLimits:
    """What one decode may use."""

    max_bytes: int = MAX_CLIP_BYTES  # refused before it is read
    max_frames: int = 900  # 30 s at 30 fps: a half-second clip has 5 to 15
    memory_bytes: int = 1536 * 1024 * 1024  # address space of the child (OpenCV and numpy need ~400 MB mapped)
    cpu_s: int = 20
    wall_s: float = 30.0


class ClipRefused(ValueError):
    """A clip the console will not decode: too large, too many frames, too slow, or the decoder died on it."""


def _limit(limits: DecodeLimits) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child(send: Any, job: Callable[..., Any], args: tuple[Any, ...], limits: DecodeLimits) -> None:
    try:
        _limit(limits)
        send.send(("ok", job(*args)))
    except BaseException as exc:  # noqa: BLE001 - whatever happens here is reported to the parent as a refusal
        send.send(("error", f"{exc.__class__.__name__}: {exc}"[:300]))
    finally:
        send.close()


_CONTEXT: Any = None


def _context() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        # A fork server forks children from a clean, single-threaded process (never from uvicorn's threads), with
        # OpenCV and numpy already imported: a decode starts in milliseconds.
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(["cv2", "numpy", "facegate_cli.console.clip_media"])
    return _CONTEXT


def run_limited(job: Callable[..., Any], *args: Any, limits: DecodeLimits = DecodeLimits()) -> Any:
    """`job(*args)` in a limited child process; its result, or ClipRefused saying which limit it broke."""
    context = _context()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, job, args, limits), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(limits.wall_s):
            raise ClipRefused(f"decoding took longer than {limits.wall_s:g} s")
        try:
            status, value = receive.recv()
        except EOFError as exc:  # killed by a limit (CPU time: SIGXCPU; memory: the allocator failed hard)
            raise ClipRefused("the decoder died on this clip (a resource limit)") from exc
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    if status != "ok":
        raise ClipRefused(f"the clip does not decode: {value}")
    return value
