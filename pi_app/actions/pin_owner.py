"""The pin owner: a small process that alone drives the GPIO outputs, so the door fails shut whatever kills the app.

The device app starts it (pi_app.actions.supervised_outputs) and sends it one JSON line per pulse on its
stdin; the pin owner answers once on stdout ({"ready": true} or {"error": ...}) and then only listens.
Every pulse ends on the owner's own clock (its GpioOutputs and scheduler): a hung app cannot keep the
relay on. The pins are driven off and released, and the owner exits, as soon as

- its stdin reaches EOF: the app closed it, or died in any way (the kernel closes a dead process's pipes,
  SIGKILL and the OOM killer included),
- its parent process changes (a child the app forked still holding the pipe must not keep the door open;
  checked every `POLL_S`),
- it gets SIGTERM or SIGINT (through a wake-up pipe, so no exception lands in the middle of a release).

It runs in its own session, so Ctrl-C and Ctrl-Z at the app's terminal do not reach it: a stopped owner
could not end a pulse. SupervisedOutputs starts it with `owner_args`; `main` is its entry point.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import select
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pi_app.actions.config import DOOR, MAX_DOOR_PULSE_S, MAX_SIGNAL_S, Output
from pi_app.actions.gpio_backend import PinJournal, load_gpio
from pi_app.actions.gpio_outputs import GpioOutputs
from pi_app.actions.scheduler import ThreadScheduler

log = logging.getLogger(__name__)

POLL_S = 0.2  # how often the parent is checked: the release bound when EOF never comes
STOPPED, APP_GONE, PARENT_GONE, SIGNALLED = "stopped", "app_gone", "parent_gone", "signal"
STOP_COMMAND = {"stop": True}  # a clean close, said before the pipe closes (logs tell it from a death)


def owner_args(outputs: Mapping[str, Output], backend: str, parent: int, journal: Path | None = None,
               log_file: Path | None = None, log_level: str = "INFO") -> list[str]:
    """The pin owner's command-line arguments (for `main`) for these outputs."""
    args = ["--parent", str(parent), "--backend", backend, "--log-level", log_level,
            "--outputs", json.dumps([asdict(o) for o in outputs.values()])]
    if journal is not None:
        args += ["--journal", str(journal)]
    if log_file is not None:
        args += ["--log-file", str(log_file)]
    return args


def serve(pins: GpioOutputs, commands: int, parent: int, wake: int | None = None, poll_s: float = POLL_S) -> str:
    """Carry out the pulse commands read from the file descriptor `commands` until the app is gone or says stop,
    or a signal arrives on the wake-up descriptor `wake`; returns why it ended. The caller opens and closes `pins`."""
    pending = b""
    watched = [commands] if wake is None else [commands, wake]
    while True:
        readable, _, _ = select.select(watched, [], [], poll_s)
        if os.getppid() != parent:
            return PARENT_GONE
        if wake is not None and wake in readable:
            return SIGNALLED
        if not readable:
            continue
        chunk = os.read(commands, 4096)
        if not chunk:
            return APP_GONE
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if _carry_out(pins, line):
                return STOPPED


def _carry_out(pins: GpioOutputs, line: bytes) -> bool:
    """Start the pulse `line` asks for (if it is a valid one); True when it asks to stop."""
    try:
        command = json.loads(line)
        if command == STOP_COMMAND:
            return True
        name, seconds = str(command["pulse"]), float(command["seconds"])
    except (ValueError, KeyError, TypeError):
        log.error("pin owner: unreadable command ignored", extra={"command": line[:200].decode(errors="replace")})
        return False
    output = pins.outputs.get(name)
    longest = MAX_DOOR_PULSE_S if output is not None and output.kind == DOOR else MAX_SIGNAL_S
    if output is None or not (math.isfinite(seconds) and 0 < seconds <= longest):
        # The config checks this already: a command that gets here anyway opens nothing.
        log.error("pin owner: pulse refused", extra={"output": name, "seconds": seconds, "longest_s": longest})
        return False
    pins.pulse(name, seconds)
    return False


def run_owner(gpio: Any, outputs: Mapping[str, Output], parent: int, commands: int,
              reply: Callable[[dict[str, Any]], None], wake: int | None = None) -> str:
    """Claim the pins, say ready, serve until the app is gone; the pins are off and released on every way out."""
    scheduler = ThreadScheduler()
    pins = GpioOutputs(gpio, outputs, scheduler)
    try:
        pins.open()
    except Exception as exc:  # RPi.GPIO refusing the pins (no access to the GPIO chip): the app says so
        reply({"error": f"cannot claim the GPIO pins: {exc}"})
        raise
    scheduler.start()
    reason = "failed"
    try:
        reply({"ready": True})
        reason = serve(pins, commands, parent, wake)
    finally:
        pins.close()  # every running pulse off, pins released
        scheduler.close()
        level = logging.INFO if reason == STOPPED else logging.WARNING
        log.log(level, "pin owner: pins off and released", extra={"reason": reason, "parent": parent})
    return reason


def _wake_on_signals() -> int:
    """A descriptor that becomes readable on SIGTERM or SIGINT (no exception raised mid-release)."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: None)
    return read_end


def main(argv: list[str] | None = None) -> int:
    """Entry point of the pin owner process."""
    parser = argparse.ArgumentParser(prog="pin_owner", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--parent", type=int, required=True, help="PID of the app; release when it changes")
    parser.add_argument("--outputs", required=True, help="JSON list of the outputs (name, pin, kind, active_low)")
    parser.add_argument("--backend", default="auto", help="GPIO backend: auto, rpi or fake")
    parser.add_argument("--journal", type=Path, help="test seam: record every pin write to this file")
    parser.add_argument("--log-file", type=Path, help="JSON-lines log (default stderr)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    from pi_app.runtime.logging_setup import configure_device_logging

    configure_device_logging(args.log_file, args.log_level)
    wake = _wake_on_signals()
    outputs = {o["name"]: Output(**o) for o in json.loads(args.outputs)}

    def reply(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    try:
        gpio = load_gpio(args.backend)
    except (RuntimeError, ImportError, ValueError) as exc:  # GpioUnavailable, fake-rpi missing, a wrong backend
        reply({"error": str(exc)})
        return 2
    if args.journal is not None:
        gpio = PinJournal(gpio, args.journal)
    try:
        run_owner(gpio, outputs, args.parent, sys.stdin.fileno(), reply, wake)
    except Exception:  # the app sees the owner exit and releases the pins itself
        log.exception("pin owner failed")
        return 1
    return 0
