"""The device's structured logs: JSON lines (recognizer.json_log) to a file or to stderr, never stdout."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from recognizer import json_log


def configure_device_logging(log_file: Path | None, level: str = "INFO") -> None:
    """Send every log record as a JSON line to `log_file` (appended) or, without one, to stderr.

    stdout belongs to the live view or the plain lines, so logs never go there.
    """
    json_log.configure(level)  # JSON format, level, quiet AWS libraries; it writes to stdout, redirected below
    root = logging.getLogger()
    if log_file is None:
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stderr)
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setFormatter(json_log.JsonFormatter())
    root.handlers[:] = [file_handler]
