"""Ctrl-C and SIGTERM ask the app to stop cleanly; a second Ctrl-C stops at once."""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def stop_on_signals(request_stop: Callable[[], None]) -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM call `request_stop` (once; a repeated SIGINT raises KeyboardInterrupt).

    Signal handlers can only be installed from the main thread: elsewhere (e.g. an app run by a test in a
    thread) the block runs without them and the caller stops the app itself.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, _frame: object) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the next Ctrl-C is not polite any more
        request_stop()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
