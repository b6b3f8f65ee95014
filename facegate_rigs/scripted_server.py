"""A loopback HTTP server that answers POSTs from a script and records what it was sent: a webhook receiver for
the doorway rig, a fake API for the device's unit tests."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseServer
from typing import TypeVar

S = TypeVar("S", bound=BaseServer)
Answer = tuple[int, dict] | tuple[int, dict, dict[str, str]]  # status, JSON body[, extra headers]


class ScriptedServer(ThreadingHTTPServer):
    """Answers POSTs with the scripted answers in turn (the last one repeats) and records requests."""

    def __init__(self, script: list[Answer]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/recognize"


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"headers": dict(self.headers), "body": body, "at": time.monotonic()})
        status, answer, *extra = self.server.script[min(len(self.server.requests), len(self.server.script)) - 1]
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (extra[0] if extra else {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@contextmanager
def serving(server: S) -> Iterator[S]:
    """`server` serving in a thread for the block, then shut down and closed."""
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def scripted_server(script: list[Answer]) -> Iterator[ScriptedServer]:
    """A ScriptedServer on 127.0.0.1 with an ephemeral port, serving in a thread for the block."""
    with serving(ScriptedServer(script)) as server:
        yield server
