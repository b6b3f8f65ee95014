"""The device's GPIO outputs (LEDs, buzzer, door relay) driven as timed pulses, BCM numbering.

A pulse turns an output on and schedules it off; a new pulse on an output that is already on only
makes it last longer (never shorter). Every output is driven off at setup (a crash may have left a
relay energised) and again at close, so no pulse outlives the app.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from pi_app.actions.config import Output
from pi_app.actions.scheduler import ScheduledCall, Scheduler

log = logging.getLogger(__name__)


class GpioOutputs:
    """Named outputs on one GPIO module (RPi.GPIO or fake-rpi's); thread-safe."""

    def __init__(self, gpio: Any, outputs: Mapping[str, Output], scheduler: Scheduler) -> None:
        self.gpio = gpio
        self.outputs = dict(outputs)
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._off_at: dict[str, float] = {}  # outputs that are on, and when they go off
        self._timers: dict[str, ScheduledCall] = {}
        self._open = False

    def open(self) -> None:
        """Claim the pins as outputs (BCM numbering), every one off."""
        self.gpio.setwarnings(False)  # a pin left configured by a previous run is expected, not a problem
        self.gpio.setmode(self.gpio.BCM)
        for output in self.outputs.values():
            self.gpio.setup(output.pin, self.gpio.OUT, initial=self._level(output, on=False))
        self._open = True

    def pulse(self, name: str, seconds: float) -> None:
        """Turn `name` on for `seconds` from now (or keep it on until then, if it is on already)."""
        with self._lock:
            if not self._open:
                return  # closing: no new pulse may start
            off_at = self.scheduler.now() + seconds
            if self._off_at.get(name, float("-inf")) >= off_at:
                return
            if name not in self._off_at:
                self._write(name, on=True)
            else:
                self._timers.pop(name).cancel()
            self._off_at[name] = off_at
            self._timers[name] = self.scheduler.call_at(off_at, lambda: self._end(name, off_at))

    def is_on(self, name: str) -> bool:
        """True while a pulse on `name` is running."""
        with self._lock:
            return name in self._off_at

    def close(self) -> None:
        """End every running pulse now (pin off) and release the pins."""
        with self._lock:
            self._open = False
            for name in list(self._off_at):
                self._timers.pop(name).cancel()
                del self._off_at[name]
                self._write(name, on=False)
        self.gpio.cleanup([output.pin for output in self.outputs.values()])

    def _end(self, name: str, off_at: float) -> None:
        with self._lock:
            if self._off_at.get(name) != off_at:
                return  # extended (or ended at close) since this call was scheduled
            del self._off_at[name], self._timers[name]
            self._write(name, on=False)

    def _write(self, name: str, on: bool) -> None:
        output = self.outputs[name]
        self.gpio.output(output.pin, self._level(output, on))
        log.debug("gpio write", extra={"output": name, "pin": output.pin, "on": on})

    def _level(self, output: Output, on: bool) -> int:
        return self.gpio.HIGH if on != output.active_low else self.gpio.LOW
