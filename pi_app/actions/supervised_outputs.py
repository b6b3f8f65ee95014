"""The app's side of the pin owner: pulses go to a child process (pi_app.actions.pin_owner) that drives the pins.

    outputs = SupervisedOutputs(config.outputs, config.gpio_backend).open()   # the owner has claimed the pins
    outputs.pulse("door_relay", 0.5)                                          # the owner ends it after 0.5 s
    outputs.close()                                                           # pins off and released

Whatever ends the app (SIGKILL, the OOM killer, a crash), its end of the pipe closes and the owner drives
every output off and releases it at once. Whatever ends the owner while the app runs, the app sees its
pipe close, drives the pins off itself and starts a new owner (not when the owner died within
`restart_after_s` of starting: then pulses are dropped, loudly, and the door stays shut).
"""
from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pi_app
from pi_app.actions.config import Output
from pi_app.actions.gpio_backend import GpioUnavailable, PinJournal, load_gpio
from pi_app.actions.gpio_outputs import release_pins
from pi_app.actions.pin_owner import STOP_COMMAND, owner_args

log = logging.getLogger(__name__)

SOURCE_ROOT = Path(pi_app.__file__).resolve().parent.parent  # the owner imports the same pi_app as the app
# Not `-m pi_app.actions.pin_owner`: the package imports that module itself, and runpy warns about running it twice.
# The first argument is SOURCE_ROOT, put first on the path (the child inherits the environment untouched).
OWNER_MAIN = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from pi_app.actions.pin_owner import main; sys.exit(main())")
STOP_LINE = (json.dumps(STOP_COMMAND) + "\n").encode()


class SupervisedOutputs:
    """Named outputs driven by a pin owner process; thread-safe. `journal` is the pin owner's test seam."""

    def __init__(self, outputs: Mapping[str, Output], backend: str = "auto", *, journal: Path | None = None,
                 ready_timeout_s: float = 60.0, restart_after_s: float = 10.0) -> None:
        self.outputs = dict(outputs)
        self.backend = backend
        self.journal = journal
        self.ready_timeout_s = ready_timeout_s  # imports on a cold Pi SD card can take seconds
        self.restart_after_s = restart_after_s
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._open = False

    @property
    def pid(self) -> int | None:
        """The running pin owner's PID, or None."""
        with self._lock:
            return self._proc.pid if self._proc is not None else None

    def open(self) -> SupervisedOutputs:
        """Start the pin owner and wait until it has claimed the pins (all off); raises GpioUnavailable if it cannot."""
        proc = self._start()
        with self._lock:
            self._proc, self._open = proc, True
        self._watch_in_background(proc)
        return self

    def pulse(self, name: str, seconds: float) -> None:
        """Ask the owner to turn `name` on for `seconds` (or keep it on until then); dropped, with an error logged,
        when no owner is running: the door then stays shut."""
        line = (json.dumps({"pulse": name, "seconds": seconds}) + "\n").encode()
        with self._lock:
            if not self._open:
                return  # closing: no new pulse may start
            if self._proc is None or not self._send(self._proc, line):
                log.error("pin owner not running: pulse dropped", extra={"output": name, "seconds": seconds})

    def close(self, timeout_s: float = 5.0) -> None:
        """Tell the owner to end every pulse and release the pins, and wait for it (killed after `timeout_s`)."""
        with self._lock:
            self._open = False
            proc, self._proc = self._proc, None
        if proc is None:
            return
        self._ask_to_stop(proc)
        try:
            code = proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log.error("pin owner did not stop: killed", extra={"pid": proc.pid, "timeout_s": timeout_s})
            proc.kill()
            code = proc.wait()
        if code != 0:
            self._release_here(f"stopped with exit code {code}")

    def _start(self) -> subprocess.Popen[bytes]:
        log_file, log_level = _app_logging()
        args = owner_args(self.outputs, self.backend, os.getpid(), self.journal, log_file, log_level)
        # Own session: Ctrl-C / Ctrl-Z at the app's terminal must not stop the process that ends the pulses.
        proc = subprocess.Popen([sys.executable, "-c", OWNER_MAIN, str(SOURCE_ROOT), *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, start_new_session=True)
        assert proc.stdin is not None
        os.set_blocking(proc.stdin.fileno(), False)  # a stuck owner drops pulses instead of blocking the event bus
        answer = _first_answer(proc, self.ready_timeout_s)
        if answer.get("ready") is not True:
            if proc.poll() is None:
                proc.kill()
            code = proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
            raise GpioUnavailable(str(answer.get("error") or f"the pin owner exited (code {code}) before claiming the "
                                                              f"pins"))
        log.info("pin owner started", extra={"pid": proc.pid, "pins": {o.name: o.pin for o in self.outputs.values()},
                                            "backend": self.backend})
        return proc

    def _watch_in_background(self, proc: subprocess.Popen[bytes]) -> None:
        threading.Thread(target=self._watch, args=(proc, time.monotonic()), name="pin-owner-watch",
                         daemon=True).start()

    def _watch(self, proc: subprocess.Popen[bytes], started: float) -> None:
        """Wait for `proc` to end; if it ends while it is still the app's owner, release the pins and replace it."""
        assert proc.stdout is not None
        while proc.stdout.read(4096):  # nothing more is said after "ready": this waits for EOF
            pass
        proc.stdout.close()
        code = proc.wait()
        _close_stdin(proc)
        with self._lock:
            if self._proc is not proc:
                return  # closed on purpose
            self._proc = None
        self._release_here(f"exited unexpectedly with exit code {code}")
        lived_s = time.monotonic() - started
        if lived_s < self.restart_after_s:
            log.error("pin owner died soon after starting: not restarted, pulses are dropped until the app restarts",
                      extra={"lived_s": round(lived_s, 2), "exit_code": code})
            return
        try:
            replacement = self._start()
        except Exception:
            log.exception("pin owner could not be restarted: pulses are dropped until the app restarts")
            return
        with self._lock:
            keep = self._open
            if keep:
                self._proc = replacement
        if keep:
            self._watch_in_background(replacement)
        else:  # the app closed the outputs meanwhile
            self._ask_to_stop(replacement)
            replacement.wait()

    def _release_here(self, why: str) -> None:
        """Drive every output off from the app's own process: the owner is gone and may have left one on."""
        log.error("pin owner gone: driving the pins off from the app",
                  extra={"why": why, "pins": [o.pin for o in self.outputs.values()]})
        try:
            gpio = load_gpio(self.backend)
            release_pins(PinJournal(gpio, self.journal) if self.journal else gpio, self.outputs)
        except Exception:
            log.exception("could not release the pins from the app")

    @classmethod
    def _ask_to_stop(cls, proc: subprocess.Popen[bytes]) -> None:
        """Say stop and close the pipe: the owner ends every pulse, releases the pins and exits."""
        cls._send(proc, STOP_LINE)
        _close_stdin(proc)

    @staticmethod
    def _send(proc: subprocess.Popen[bytes], line: bytes) -> bool:
        """Write one command line (atomic: shorter than PIPE_BUF); False when the owner cannot take it."""
        try:
            assert proc.stdin is not None
            return os.write(proc.stdin.fileno(), line) == len(line)
        except (OSError, ValueError):  # BrokenPipeError: the owner is gone; BlockingIOError: it stopped reading
            return False


def _first_answer(proc: subprocess.Popen[bytes], timeout_s: float) -> dict[str, Any]:
    """The owner's one answer ({"ready": true} or {"error": ...}); {} on EOF, an error on timeout."""
    assert proc.stdout is not None
    readable, _, _ = select.select([proc.stdout], [], [], timeout_s)
    if not readable:
        return {"error": f"the pin owner did not claim the pins within {timeout_s:g} s"}
    line = proc.stdout.readline()
    try:
        answer = json.loads(line) if line else {}
    except ValueError:
        answer = {"error": f"unexpected answer from the pin owner: {line[:200]!r}"}
    return answer if isinstance(answer, dict) else {"error": f"unexpected answer from the pin owner: {answer!r}"}


def _app_logging() -> tuple[Path | None, str]:
    """Where and at which level the app logs, so the owner's lines land in the same file (stderr without one)."""
    root = logging.getLogger()
    log_file = next((Path(h.baseFilename) for h in root.handlers if isinstance(h, logging.FileHandler)), None)
    return log_file, logging.getLevelName(root.getEffectiveLevel())


def _close_stdin(proc: subprocess.Popen[bytes]) -> None:
    """Close the app's end of the command pipe (nothing is buffered: commands go out with os.write)."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
    except OSError:
        pass
