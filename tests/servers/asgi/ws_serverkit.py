"""Start a real ``bench serve`` process for the WebSocket tests, and raw-socket helpers.

``served(...)`` runs ``python -m bench.runner.cli serve eventloop APP -b 127.0.0.1:0 ...`` in its
own process group, waits for the readiness line on stderr (with a deadline), yields
the ``ws://`` base URL, and always stops the group it started (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
READY = re.compile(rb"bench: listening on http://([\d.]+):(\d+)")
START_TIMEOUT = 20.0


class Served:
    """A running server: its base URL, process, and everything it wrote to stderr."""

    def __init__(self, proc: subprocess.Popen[bytes], host: str, port: int) -> None:
        self.proc = proc
        self.host = host
        self.port = port
        self.url = f"ws://{host}:{port}"
        self.stderr = b""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the server's process group; return its exit code."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        assert self.proc.stderr is not None
        self.stderr += self.proc.stderr.read()
        return code


def _wait_ready(proc: subprocess.Popen[bytes]) -> tuple[str, int, bytes]:
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    seen = b""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        chunk = os.read(proc.stderr.fileno(), 65536)
        if not chunk:
            break
        seen += chunk
        match = READY.search(seen)
        if match:
            return match.group(1).decode(), int(match.group(2)), seen
    raise AssertionError(f"server not ready: {seen.decode(errors='replace')}")


@contextlib.contextmanager
def served(app: str = "ws_echo", *args: str, server: str = "eventloop") -> Iterator[Served]:
    """Run ``bench serve SERVER APP -b 127.0.0.1:0 ARGS`` until the block ends."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    cmd = [
        sys.executable,
        "-m",
        "bench.runner.cli",
        "serve",
        server,
        app,
        "-b",
        "127.0.0.1:0",
        *args,
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    handle: Served | None = None
    try:
        host, port, seen = _wait_ready(proc)
        handle = Served(proc, host, port)
        handle.stderr = seen
        yield handle
    finally:
        if handle is not None:
            if handle.proc.poll() is None:
                handle.stop()
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def raw_upgrade(
    host: str, port: int, path: str = "/", extra: bytes = b""
) -> tuple[socket.socket, bytes]:
    """Open a TCP connection, send an upgrade request, return the socket and the head read."""
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(
        b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%sSec-WebSocket-Version: 13\r\n\r\n"
        % (path.encode(), host.encode(), port, extra)
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return sock, head


def read_until_closed(sock: socket.socket) -> bytes:
    """Read until the server closes the connection (the socket has a timeout)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data
