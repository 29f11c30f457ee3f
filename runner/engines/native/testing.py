"""A test server whose latency and faults are known: the engine's known-answer tests use it.

Shipped as a real module (like trio's testing fakes) so tests, the benchmark and users
checking the engine on their own machine drive the same server::

    python -m bench.runner.engines.native.testing --delay-ms 10 --port 0
    python -m bench.runner.engines.native.testing --slow-every 100 --slow-ms 200
    python -m bench.runner.engines.native.testing --stall-after 0.5 --stall 1.0
    python -m bench.runner.engines.native.testing --slots 4 --delay-ms 20   # 200 req/s at most
    python -m bench.runner.engines.native.testing --fault garbage

It speaks HTTP/1.1 through the protocol core's server role (``bench.servers.protocol``) and
WebSocket echo through ``bench.servers.protocol.websocket``, on the standard asyncio loop,
one process, and prints ``bench: listening on http://HOST:PORT (test server)`` to
stderr once it accepts connections. ``serve(behaviour)`` runs it in a child process
(its own process group) and yields its URL; the child is killed when the block ends.

Behaviour (``Behaviour``):

* every response waits ``delay_ms``; every ``slow_every``-th request (server-wide
  count) waits ``slow_ms`` more;
* a fixed capacity: with ``slots`` N, at most N requests are served at once (the rest
  wait, first come first served), so the server answers at most N / ``delay_ms``
  requests per second whatever the machine does — the known answer for overload;
* a stall: ``stall_after_s`` seconds after the first request, the server freezes for
  ``stall_s`` seconds — nothing is answered until it ends;
* faults: ``drop`` (close after reading the request), ``reset`` (RST), ``garbage``
  (non-HTTP bytes), ``silent`` (never answer), ``status`` (500), ``body`` (wrong body).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from bench.servers.protocol import (
    END_OF_MESSAGE,
    Connection,
    Data,
    EndOfMessage,
    RemoteProtocolError,
    Request,
    Response,
    Role,
)
from bench.servers.protocol.websocket import (
    BytesMessage,
    CloseConnection,
    HandshakeError,
    TextMessage,
    WSConnection,
)
from bench.servers.protocol.websocket.handshake import (
    accept,
    is_websocket_upgrade,
    validate_request,
)
from bench.servers.sockets import READY_PREFIX

Fault = Literal["none", "drop", "reset", "garbage", "silent", "status", "body"]
FAULTS: tuple[str, ...] = ("none", "drop", "reset", "garbage", "silent", "status", "body")
#: How long ``serve`` waits for the child's readiness line.
READY_TIMEOUT_S = 20.0
#: How often a child started by ``serve`` checks that its parent is alive.
PARENT_CHECK_S = 1.0


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How the test server answers (see the module docstring)."""

    delay_ms: float = 0.0
    slow_every: int = 0
    slots: int = 0
    slow_ms: float = 0.0
    stall_after_s: float | None = None
    stall_s: float = 0.0
    fault: Fault = "none"
    body: bytes = b"hello"

    def to_args(self) -> list[str]:
        """The command-line arguments that reproduce this behaviour."""
        args = [
            "--delay-ms",
            str(self.delay_ms),
            "--fault",
            self.fault,
            "--body",
            self.body.decode(),
        ]
        if self.slow_every:
            args += ["--slow-every", str(self.slow_every), "--slow-ms", str(self.slow_ms)]
        if self.slots:
            args += ["--slots", str(self.slots)]
        if self.stall_after_s is not None:
            args += ["--stall-after", str(self.stall_after_s), "--stall", str(self.stall_s)]
        return args


class _Clock:
    """Server-wide state: request count and the stall window."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.count = 0
        self.stall_start: float | None = None
        self.stall_end: float | None = None
        #: With ``slots``: when each busy slot frees (a min-heap).
        self.free_at: list[float] = []

    def response_delay(self, now: float) -> float:
        """Seconds to wait before answering a request that arrived ``now``."""
        b = self.behaviour
        self.count += 1
        if b.stall_after_s is not None and self.stall_start is None:
            self.stall_start = now + b.stall_after_s
            self.stall_end = self.stall_start + b.stall_s
        delay = b.delay_ms / 1000
        if b.slow_every and self.count % b.slow_every == 0:
            delay += b.slow_ms / 1000
        if b.slots:
            # The slot that frees first takes this request: it starts then, not now.
            start = max(now, heapq.heappop(self.free_at)) if len(self.free_at) >= b.slots else now
            heapq.heappush(self.free_at, start + delay)
            return start + delay - now
        return delay

    def frozen_until(self, now: float) -> float | None:
        """End of the stall if ``now`` is inside it."""
        if self.stall_start is not None and self.stall_start <= now < (self.stall_end or 0):
            return self.stall_end
        return None


class _HttpProtocol(asyncio.Protocol):
    """One server connection: HTTP/1.1 through the core, WebSocket echo after an upgrade."""

    def __init__(self, clock: _Clock) -> None:
        self._clock = clock
        self._conn = Connection(Role.SERVER, server_header=b"bench-testing")
        self._ws: WSConnection | None = None
        self._transport: asyncio.Transport | None = None
        self._head: Request | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._ws is not None:
            self._ws_received(data)
            return
        self._conn.receive_data(data)
        self._pump()

    def _pump(self) -> None:
        """Parse what arrived; act on each complete request (one at a time, in order)."""
        conn = self._conn
        while self._transport is not None:
            try:
                event = conn.next_event()
            except RemoteProtocolError:
                self._close()
                return
            if isinstance(event, Request):
                self._head = event
            elif isinstance(event, EndOfMessage):
                head = self._head
                assert head is not None
                if is_websocket_upgrade(head):
                    self._upgrade(head)
                else:
                    self._request()
                return
            elif not isinstance(event, Data):
                return  # NEED_DATA, PAUSED (a response is due first) or ConnectionClosed

    def _request(self) -> None:
        fault = self._clock.behaviour.fault
        transport = self._transport
        assert transport is not None
        if fault == "drop":
            transport.close()
            return
        if fault == "reset":
            _reset(transport)
            return
        if fault == "silent":
            return
        now = self._loop.time()
        self._loop.call_at(now + self._clock.response_delay(now), self._respond)

    def _respond(self) -> None:
        frozen = self._clock.frozen_until(self._loop.time())
        if frozen is not None:
            self._loop.call_at(frozen, self._respond)
            return
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        behaviour = self._clock.behaviour
        if behaviour.fault == "garbage":
            transport.write(b"THIS IS NOT HTTP\r\n\r\n")
            return
        status = 500 if behaviour.fault == "status" else 200
        body = b"HELLO!" if behaviour.fault == "body" else behaviour.body
        conn = self._conn
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
        out = conn.send(Response(status, headers)) + conn.send(Data(body))
        transport.write(out + conn.send(END_OF_MESSAGE))
        if not conn.keep_alive:
            transport.close()
            return
        self._pump()

    def _upgrade(self, request: Request) -> None:
        transport = self._transport
        assert transport is not None
        if self._clock.behaviour.fault == "status":
            self._respond()  # refuse the upgrade with a 500
            return
        try:
            accepted = accept(validate_request(request))
        except HandshakeError:
            self._close()
            return
        transport.write(self._conn.send(accepted.response))  # type: ignore[arg-type]
        self._ws = accepted.connection(Role.SERVER)
        trailing, _ = self._conn.trailing_data
        if trailing:
            self._ws_received(trailing)

    def _ws_received(self, data: bytes) -> None:
        ws = self._ws
        assert ws is not None
        fault = self._clock.behaviour.fault
        if fault in ("drop", "reset", "garbage"):
            if fault == "garbage" and self._transport is not None:
                self._transport.write(b"\xff\xffTHIS IS NOT WEBSOCKET")
            if fault == "reset" and self._transport is not None:
                _reset(self._transport)
            self._close()
            return
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, TextMessage | BytesMessage):
                now = self._loop.time()
                self._loop.call_at(now + self._clock.response_delay(now), self._echo, event)
            elif isinstance(event, CloseConnection):
                self._write_ws(ws.data_to_send())
                self._close()
                return
        self._write_ws(ws.data_to_send())

    def _echo(self, message: TextMessage | BytesMessage) -> None:
        frozen = self._clock.frozen_until(self._loop.time())
        if frozen is not None:
            self._loop.call_at(frozen, self._echo, message)
            return
        ws = self._ws
        fault = self._clock.behaviour.fault
        if ws is None or fault == "silent":
            return
        if fault == "body":
            message = BytesMessage(
                b"X" + bytes(message.data, "utf-8")
                if isinstance(message, TextMessage)
                else b"X" + message.data
            )
        with contextlib.suppress(Exception):
            self._write_ws(ws.send(message))

    def _write_ws(self, data: bytes) -> None:
        if data and self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


def _reset(transport: asyncio.Transport) -> None:
    """Close with an RST (SO_LINGER 0) instead of a FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _serve(host: str, port: int, behaviour: Behaviour, parent: int | None = None) -> None:
    loop = asyncio.get_running_loop()
    clock = _Clock(behaviour)
    server = await loop.create_server(lambda: _HttpProtocol(clock), host, port, backlog=4096)
    bound = server.sockets[0].getsockname()
    print(f"{READY_PREFIX} http://{host}:{bound[1]} (test server)", file=sys.stderr, flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    def watch_parent() -> None:
        # A parent that died without stopping us (SIGKILL) must not leave us behind.
        if os.getppid() != parent:
            stop.done() or stop.set_result(None)
        else:
            loop.call_later(PARENT_CHECK_S, watch_parent)

    if parent is not None:
        watch_parent()
    async with server:
        await stop


def main(argv: list[str] | None = None) -> int:
    """Run the test server until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m bench.runner.engines.native.testing")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--slow-every", type=int, default=0)
    parser.add_argument("--slow-ms", type=float, default=0.0)
    parser.add_argument("--slots", type=int, default=0, help="serve at most N at once")
    parser.add_argument("--stall-after", type=float, default=None)
    parser.add_argument("--stall", type=float, default=0.0)
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--body", default="hello")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="stop when the parent process dies"
    )
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    behaviour = Behaviour(
        delay_ms=args.delay_ms,
        slow_every=args.slow_every,
        slow_ms=args.slow_ms,
        slots=args.slots,
        stall_after_s=args.stall_after,
        stall_s=args.stall,
        fault=args.fault,
        body=args.body.encode(),
    )
    parent = os.getppid() if args.exit_with_parent else None
    asyncio.run(_serve(args.host, args.port, behaviour, parent))
    return 0


@contextlib.contextmanager
def serve(behaviour: Behaviour = Behaviour(), *, cpu: int | None = None) -> Iterator[str]:
    """Run the test server in a child process; yield its base URL (``http://127.0.0.1:P``).

    Resource handling: the child runs in its own process group, which is killed when
    the block exits, whatever happened inside it. ``cpu`` pins the child to one CPU.
    """
    cmd = [
        sys.executable,
        "-m",
        "bench.runner.engines.native.testing",
        "--exit-with-parent",
        *behaviour.to_args(),
    ]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        yield _wait_ready(proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes]) -> str:
    """Read the child's stderr up to the readiness line (with a deadline), then drain it."""
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    deadline = time.monotonic() + READY_TIMEOUT_S
    buf = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError("test server did not become ready in time")
        readable, _, _ = select.select([fd], [], [], remaining)
        if not readable:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            raise RuntimeError(f"test server exited with {proc.wait()} before it was ready")
        buf += chunk
        for line in buf.decode(errors="replace").splitlines():
            if line.startswith(READY_PREFIX + " "):
                # Keep reading stderr so the child never blocks on a full pipe.
                threading.Thread(target=_drain, args=(fd,), daemon=True).start()
                return line[len(READY_PREFIX) + 1 :].split()[0]


def _drain(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 65536):
            pass


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (connects are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
