"""The app's side of the pin owner, alone in a process the tests can SIGKILL: start the real owner (fake-rpi, pin
journal), send the pulses given as JSON [[output, seconds], ...], print the owner's PID, then hang like an app
that never says stop.

    python -m tests.unit.pin_app_side JOURNAL '[["door_relay", 30]]'
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pi_app.actions.config import DOOR, Output
from pi_app.actions.supervised_outputs import SupervisedOutputs

RELAY_PIN, LED_PIN = 23, 17
OUTPUTS = {"door_relay": Output("door_relay", RELAY_PIN, DOOR, active_low=True), "green_led": Output("green_led", LED_PIN)}


def main() -> None:
    """Open the outputs, pulse, report the owner's PID, wait to be killed."""
    journal, pulses = Path(sys.argv[1]), json.loads(sys.argv[2])
    outputs = SupervisedOutputs(OUTPUTS, "fake", journal=journal, restart_after_s=float("inf")).open()
    for name, seconds in pulses:
        outputs.pulse(name, seconds)
    print(outputs.pid, flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main()
