"""The device's structured logs: JSON lines (the contract's log format) to a file or to stderr, never stdout."""
from __future__ import annotations

import sys
from pathlib import Path

from facegate_contract import configure_json_logging


def configure_device_logging(log_file: Path | None, level: str = "INFO") -> None:
    """Send every log record as a JSON line to `log_file` (appended) or, without one, to stderr.

    stdout belongs to the live view or the plain lines, so logs never go there.
    """
    configure_json_logging(level, stream=sys.stderr, file=log_file)
