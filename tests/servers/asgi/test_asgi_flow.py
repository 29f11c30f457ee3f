"""HttpProtocol driven through an in-memory transport: back-pressure, pipelining, deadlines.

The transport here is a small working implementation of asyncio.Transport that keeps
what is written and whether reading is paused — the part of a socket these rules are
about — so the tests can observe pause/resume decisions that a real socket hides.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.servers.asgi.config import ServerConfig
from bench.servers.asgi.cycle import HIGH_WATER, HttpCycle
from bench.servers.asgi.http import HttpProtocol, ProtocolContext
from bench.servers.asgi.state import ServerState
from bench.servers.protocol import Connection, Data, EndOfMessage, Request, Response, Role


class MemoryTransport(asyncio.Transport):
    """Keeps written bytes; records pause/resume of reading; closes like a socket would."""

    def __init__(self, protocol: asyncio.Protocol, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.protocol = protocol
        self.loop = loop
        self.written = bytearray()
        self.reading = True
        self.pauses = 0
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 40000)}.get(
            name, default
        )

    def write(self, data: bytes) -> None:
        self.written += data

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def pause_reading(self) -> None:
        self.reading = False
        self.pauses += 1

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading


def _responses(data: bytes, count: int) -> list[tuple[int, bytes]]:
    """Parse ``count`` responses to GET/POST requests with the core's client role."""
    conn = Connection(Role.CLIENT)
    conn.receive_data(bytes(data))
    out: list[tuple[int, bytes]] = []
    for _ in range(count):
        conn.send(Request(b"GET", b"/", [(b"host", b"x")]))
        conn.send(EndOfMessage())
        status, body = 0, b""
        while True:
            event = conn.next_event()
            if isinstance(event, Response):
                status = event.status_code
            elif isinstance(event, Data):
                body += event.data
            elif isinstance(event, EndOfMessage):
                break
            else:
                raise AssertionError(f"incomplete response: {event!r}")
        out.append((status, body))
    return out


def _connect(app: Any, **config: Any) -> tuple[HttpProtocol, MemoryTransport, ServerState]:
    loop = asyncio.get_running_loop()
    state = ServerState()
    ctx = ProtocolContext(app, "asgi", ServerConfig(**config), state, loop, HttpCycle)
    protocol = HttpProtocol(ctx)
    transport = MemoryTransport(protocol, loop)
    protocol.connection_made(transport)
    return protocol, transport, state


async def _settle(until: Any = None) -> None:
    """Let the loop run: 20 iterations, or (with ``until``) until it returns true."""
    if until is None:
        for _ in range(20):
            await asyncio.sleep(0)
        return
    for _ in range(100_000):
        if until():
            return
        await asyncio.sleep(0)
    raise AssertionError("the loop never got there")


def test_unread_body_pauses_reading_until_the_app_reads() -> None:
    async def main() -> None:
        go = asyncio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await go.wait()
            size = 0
            while True:
                message = await receive()
                size += len(message["body"])
                if not message["more_body"]:
                    break
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"%d" % size})

        protocol, transport, _ = _connect(app)
        total = 4 * HIGH_WATER
        protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % total)
        sent = 0
        while transport.reading and sent < total:
            protocol.data_received(b"b" * 16384)
            sent += 16384
        assert not transport.reading  # the app reads nothing yet: stop reading
        assert sent < total
        go.set()
        await _settle()
        assert transport.reading  # the app drained the buffer
        protocol.data_received(b"b" * (total - sent))
        await _settle()
        assert _responses(transport.written, 1) == [(200, b"%d" % total)]
        assert not transport.closed

    asyncio.run(main())


def test_send_waits_while_the_transport_is_paused() -> None:
    async def main() -> None:
        progress: list[int] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for i in range(3):
                await send({"type": "http.response.body", "body": b"chunk", "more_body": True})
                progress.append(i)
            await send({"type": "http.response.body", "body": b""})

        protocol, transport, _ = _connect(app)
        protocol.pause_writing()  # the socket's buffer is full
        protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await _settle()
        assert progress == []  # the first body send waits for the drain
        assert transport.written == b""
        protocol.resume_writing()
        await _settle()
        assert progress == [0, 1, 2]
        assert _responses(transport.written, 1) == [(200, b"chunk" * 3)]

    asyncio.run(main())


def test_pipelined_flood_pauses_reading_until_the_response() -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["path"] == "/slow":
                await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": scope["path"].encode()})

        protocol, transport, _ = _connect(app)
        protocol.data_received(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        assert transport.reading  # one request in progress: keep reading (to see EOF)
        quick = b"GET /q HTTP/1.1\r\nHost: x\r\n\r\n"
        count = HIGH_WATER // len(quick) + 2
        protocol.data_received(quick * count)
        assert not transport.reading  # too much pipelined: pause
        release.set()
        await _settle(lambda: transport.written.count(b"HTTP/1.1 200") == count + 1)
        assert transport.reading
        replies = _responses(transport.written, count + 1)
        assert [body for _, body in replies] == [b"/slow"] + [b"/q"] * count

    asyncio.run(main())


def test_deadlines() -> None:
    async def main() -> None:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        protocol, transport, state = _connect(app, timeout_keep_alive=5, timeout_header_read=2)
        assert protocol.deadline is not None  # connected, nothing sent: header-read deadline
        assert protocol.deadline <= time.monotonic() + 2
        protocol.data_received(b"GET / HTTP/1.1\r\n")
        head_deadline = protocol.deadline
        protocol.data_received(b"Host: x\r\n")
        assert protocol.deadline == head_deadline  # more bytes do not extend it
        protocol.data_received(b"\r\n")
        assert protocol.deadline is None  # a request in progress has no deadline
        await _settle()
        assert protocol.deadline is not None
        assert protocol.deadline > time.monotonic() + 4  # idle keep-alive: 5 s
        state.expire()
        assert not transport.closed
        protocol.deadline = time.monotonic() - 0.001
        state.expire()
        assert transport.closed
        await _settle()
        assert protocol not in state.connections

    asyncio.run(main())


def test_limit_concurrency_counts_requests_in_progress() -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        first, first_transport, state = _connect(app, limit_concurrency=1)
        first.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert state.in_flight == 1
        second = HttpProtocol(first.ctx)
        second_transport = MemoryTransport(second, first.loop)
        second.connection_made(second_transport)
        second.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _responses(second_transport.written, 1)[0][0] == 503
        assert second_transport.closed
        release.set()
        await _settle()
        assert _responses(first_transport.written, 1) == [(200, b"ok")]
        assert state.in_flight == 0
        assert state.total_requests == 1

    asyncio.run(main())
