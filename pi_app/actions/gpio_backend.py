"""Which GPIO library drives the pins: RPi.GPIO on a Raspberry Pi, fake-rpi anywhere else.

fake-rpi's `RPi.GPIO` has the same calls and constants and does nothing, so the device app (and its
tests) run unchanged off a Pi. On a Pi 5 install `rpi-lgpio` (a drop-in RPi.GPIO on lgpio) from
Raspberry Pi OS: the classic RPi.GPIO cannot reach the Pi 5's GPIO chip.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import logging
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
