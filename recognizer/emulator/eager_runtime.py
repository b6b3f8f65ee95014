"""Start the Lambda runtime with the container when it runs under the Runtime Interface Emulator (locally).

On AWS the runtime starts with the execution environment: its init runs while the environment is set up,
before the first event is handed over. The RIE instead starts the runtime only when the first invoke
arrives, so there every millisecond of init is added to request 1 after the emulator's own container
start. This script puts the init back where AWS has it. Only the image built for the emulator carries it
(recognizer/Dockerfile, build arg IMAGE_FOR=emulator, as scripts/prepare-images builds it);
the entrypoint uses it only when AWS_LAMBDA_RUNTIME_API is unset (not on AWS) and FACEGATE_EAGER_INIT is not 0.

    python eager_runtime.py preload HANDLER   # the entrypoint starts it beside the RIE, with the container
    python eager_runtime.py attach HANDLER    # the RIE's runtime command: connects the two

`preload` listens on a Unix socket, sets up logging as awslambdaric would, imports the handler module (the
whole init) and waits. `attach` is what the RIE starts at the first invoke: it hands its environment (the
Runtime API address and everything else the RIE gives a runtime) to the preloaded process, which then runs
awslambdaric's loop as `python -m awslambdaric HANDLER` would, and it lives exactly as long as that process
(the RIE watches it; if the RIE ends it, the preloaded runtime ends too). When nothing was preloaded, or it
ended before taking over, or a second runtime is started after a reset, `attach` becomes
`python -m awslambdaric HANDLER`: the RIE's own way.
"""
from __future__ import annotations

import json
import os  # the environment is handed over whole, by design: the contract's settings (36 ms to import) stay out
import socket
import sys
import time

SOCKET = "/tmp/facegate-runtime.sock"  # /tmp: what a Lambda may write
WAIT_FOR_PRELOAD_S = 2.0  # the preloaded process binds its socket within a few ms of the container start


def attach(handler: str) -> None:
    deadline = time.monotonic() + WAIT_FOR_PRELOAD_S
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(SOCKET)
            break
        except OSError:
            conn.close()
            # The socket appears a few ms after the container starts; a stale one, or none later, means no preload.
            if os.path.exists(SOCKET) or not _container_is_young() or time.monotonic() >= deadline:
                os.execv(sys.executable, [sys.executable, "-m", "awslambdaric", handler])  # init now, as usual
            time.sleep(0.005)
    try:
        conn.sendall(json.dumps(dict(os.environ)).encode() + b"\n")
        taken = conn.recv(1) == b"1"  # the preloaded runtime took over
    except OSError:
        taken = False
    if not taken:  # it ended before taking over: the plain runtime, initialising now
        conn.close()
        os.execv(sys.executable, [sys.executable, "-m", "awslambdaric", handler])
    while conn.recv(4096):  # nothing more is written: this returns when the preloaded runtime exits
        pass
    sys.exit(1)


def _container_is_young() -> bool:
    """True shortly after the container started (a preload is on its way); later a missing socket means none."""
    try:
        with open("/proc/1/stat") as stat:  # the RIE is PID 1: its age is the container's
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK") < WAIT_FOR_PRELOAD_S
    except (OSError, ValueError, IndexError):
        return False


def preload(handler: str) -> None:
    import importlib
    import threading

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(SOCKET)
    except FileNotFoundError:
        pass
    server.bind(SOCKET)
    server.listen(1)

    try:
        from awslambdaric import bootstrap
        from awslambdaric.lambda_runtime_client import LambdaRuntimeClient

        # awslambdaric sets up logging, then imports the handler module (whose own set-up then wins): same order.
        with bootstrap.create_log_sink() as sink:
            bootstrap._setup_logging(bootstrap._AWS_LAMBDA_LOG_FORMAT, bootstrap._AWS_LAMBDA_LOG_LEVEL, sink)
    except Exception:  # noqa: BLE001 - an awslambdaric without these internals: leave it to the plain runtime
        server.close()
        os.unlink(SOCKET)
        raise
    try:
        importlib.import_module(handler.rsplit(".", 1)[0].replace("/", "."))
    except Exception:  # noqa: BLE001 - bootstrap.run imports it again and reports the error to the Runtime API
        pass

    conn, _ = server.accept()
    server.close()
    os.unlink(SOCKET)
    line = b""
    while not line.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            os._exit(1)
        line += chunk
    os.environ.update(json.loads(line))
    conn.sendall(b"1")

    def follow_attached() -> None:  # the RIE ended its runtime (reset, timeout): end this one too
        conn.recv(1)
        os._exit(1)

    threading.Thread(target=follow_attached, daemon=True).start()
    bootstrap._setup_logging = lambda *args: None  # done above, before the handler's own set-up
    bootstrap.run(handler, LambdaRuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"], False))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("preload", "attach"):
        raise SystemExit("usage: eager_runtime.py preload|attach HANDLER")
    (preload if sys.argv[1] == "preload" else attach)(sys.argv[2])
