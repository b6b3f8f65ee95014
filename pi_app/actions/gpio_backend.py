"""Which GPIO library drives the pins: RPi.GPIO on a Raspberry Pi, fake-rpi anywhere else.

fake-rpi's `RPi.GPIO` has the same calls and constants and does nothing, so the device app (and its
tests) run unchanged off a Pi. On a Pi 5 install `rpi-lgpio` (a drop-in RPi.GPIO on lgpio) from
Raspberry Pi OS: the classic RPi.GPIO cannot reach the Pi 5's GPIO chip. `PinJournal` is a test seam:
fake-rpi keeps no pin levels, so tests that kill processes read the levels from its file instead.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class GpioUnavailable(RuntimeError):
    """RPi.GPIO was asked for (backend "rpi") and cannot be used on this machine."""


def load_gpio(backend: str = "auto") -> Any:
    """The GPIO module for `backend`: "rpi" (RPi.GPIO or fail), "fake" (fake-rpi), "auto" (RPi.GPIO if usable, else fake).

    "auto" warns when it falls back, since on a real door the relay would then silently do nothing.
    """
    if backend in ("rpi", "auto"):
        try:
            # RuntimeError: RPi.GPIO's own "This module can only be run on a Raspberry Pi!"
            return importlib.import_module("RPi.GPIO")
        except (ImportError, RuntimeError) as exc:
            if backend == "rpi":
                raise GpioUnavailable(f"RPi.GPIO is not usable here ({exc}); use backend = \"fake\" off a Pi") from exc
            log.warning("RPi.GPIO not available: using fake-rpi, pins are only logged", extra={"reason": str(exc)})
    elif backend != "fake":
        raise ValueError(f"unknown GPIO backend {backend!r}")
    return fake_gpio()


def fake_gpio() -> Any:
    """fake-rpi's RPi.GPIO stand-in, silenced: it prints a banner on import and a line per call, and stdout
    belongs to the live view (the pin writes are logged by GpioOutputs instead)."""
    with contextlib.redirect_stdout(io.StringIO()):
        from fake_rpi import RPi, toggle_print
    toggle_print(False)
    return RPi.GPIO


class PinJournal:
    """A GPIO module that also appends every setup, output and cleanup to a JSON-lines file (test seam).

    Each line: {"t": CLOCK_MONOTONIC seconds (one clock for every process), "pid", "op", "pin", "level"}.
    Lines are single appends, so several processes may share one journal. Never used by the device itself.
    """

    def __init__(self, gpio: Any, path: Path) -> None:
        self._gpio = gpio
        self._path = path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gpio, name)  # constants and the calls that move no pin

    def setup(self, pin: int, mode: int, initial: int = 0, **kwargs: Any) -> None:
        """Set `pin` up (as an output, at `initial`)."""
        self._gpio.setup(pin, mode, initial=initial, **kwargs)
        self._note("setup", pin, initial if mode == self._gpio.OUT else None)

    def output(self, pin: int, value: int) -> None:
        """Drive `pin` to `value`."""
        self._gpio.output(pin, value)
        self._note("output", pin, value)

    def cleanup(self, pins: Any = None) -> None:
        """Release `pins` (every pin when None)."""
        self._gpio.cleanup(pins)
        for pin in [pins] if isinstance(pins, int) else pins or [None]:
            self._note("cleanup", pin, None)

    def _note(self, op: str, pin: int | None, value: int | None) -> None:
        line = json.dumps({"t": time.monotonic(), "pid": os.getpid(), "op": op, "pin": pin, "level": value}) + "\n"
        with open(self._path, "a", encoding="utf-8") as journal:  # one write per line, flushed at once
            journal.write(line)
