"""The device's GPIO outputs (LEDs, buzzer, door relay) driven as timed pulses, BCM numbering.

A pulse turns an output on and schedules it off; a new pulse on an output that is already on only
makes it last longer (never shorter). Every output is driven off at setup (a crash may have left a
relay energised) and again at close, so no pulse outlives the app. On a device the outputs live in the pin
owner process (pi_app.actions.pin_owner), which also ends them when the app dies; `release_pins` drives
every output off without knowing which were on (`facegate release-pins`, the systemd unit's stop path).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, Protocol

from pi_app.actions.config import Output
from pi_app.actions.scheduler import ScheduledCall, Scheduler

log = logging.getLogger(__name__)


class Pulses(Protocol):
    """What the action sink drives: timed pulses on named outputs."""

    def pulse(self, name: str, seconds: float) -> None:
        """Turn `name` on for `seconds` from now (or keep it on until then)."""
        ...


def level(gpio: Any, output: Output, on: bool) -> int:
    """The pin level that turns `output` on or off (an active-low output is on at 0 V)."""
    return gpio.HIGH if on != output.active_low else gpio.LOW


def claim_pins(gpio: Any, outputs: Mapping[str, Output]) -> None:
    """Set every output's pin up as an output (BCM numbering), off."""
    gpio.setwarnings(False)  # a pin left configured by a previous run is expected, not a problem
    gpio.setmode(gpio.BCM)
    for output in outputs.values():
        gpio.setup(output.pin, gpio.OUT, initial=level(gpio, output, on=False))


def release_pins(gpio: Any, outputs: Mapping[str, Output]) -> None:
    """Drive every output to off and release its pin, whatever state a dead process left it in."""
    claim_pins(gpio, outputs)
    gpio.cleanup([output.pin for output in outputs.values()])
    log.info("gpio pins released", extra={"pins": {o.name: o.pin for o in outputs.values()}})


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
        claim_pins(self.gpio, self.outputs)
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
        self.gpio.output(output.pin, level(self.gpio, output, on))
        log.debug("gpio write", extra={"output": name, "pin": output.pin, "on": on})
