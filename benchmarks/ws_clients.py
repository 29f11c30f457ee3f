"""The load side of the WebSocket echo benchmark: closed-loop and idle client connections.

Both speak the client role of bench's sans-IO WebSocket core for the opening
handshake. ``EchoClient`` then sends one pre-built masked frame (its own random key,
chosen once per connection), waits for the echo, compares it byte for byte with the
expected unmasked frame, and sends again: a write and a compare per message, so that
the client stays far below the server's cost. ``IdleClient`` only answers pings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench.servers.protocol import END_OF_MESSAGE, Connection, InformationalResponse, Role
from bench.servers.protocol.websocket import ClientHandshake, WSConnection
from bench.servers.protocol.websocket.frames import Opcode, new_mask, serialize_frame


class Stats:
    """What the connections of one run share: the phase and the counts."""

    def __init__(self) -> None:
        self.measuring = False
        self.stopping = False
        self.round_trips = 0
        self.errors: list[str] = []
        self.latencies_ns: list[int] = []


class EchoClient(asyncio.Protocol):
    """One closed-loop connection: handshake, then send, await the echo, check, repeat."""

    def __init__(self, port: int, size: int, stats: Stats, opened: asyncio.Future[None]) -> None:
        self.stats = stats
        self.opened = opened
        payload = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        opcode = Opcode.TEXT if size <= 1024 else Opcode.BINARY
        self.frame = serialize_frame(opcode, payload, mask=new_mask())
        self.expected = serialize_frame(opcode, payload)
        self.handshake = ClientHandshake.start(f"127.0.0.1:{port}", "/")
        self.http: Connection | None = Connection(Role.CLIENT)
        self.buf = bytearray()
        self.sent_at = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        assert self.http is not None
        self.transport.write(
            self.http.send(self.handshake.request) + self.http.send(END_OF_MESSAGE)
        )  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.stats.stopping:
            self.stats.errors.append(f"connection lost: {exc}")
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        if self.http is not None:
            self._handshake_data(data)
            return
        buf = self.buf
        buf += data
        expected = self.expected
        n = len(expected)
        if len(buf) < n:
            return
        if len(buf) > n or buf != expected:
            self.stats.errors.append("wrong echo")
            assert self.transport is not None
            self.transport.abort()
            return
        buf.clear()
        stats = self.stats
        now = time.perf_counter_ns()
        if stats.measuring:
            stats.round_trips += 1
            stats.latencies_ns.append(now - self.sent_at)
        if not stats.stopping:
            self.sent_at = now
            self.transport.write(self.frame)  # type: ignore[union-attr]

    def _handshake_data(self, data: bytes) -> None:
        http = self.http
        assert http is not None
        http.receive_data(data)
        event = http.next_event()
        if not isinstance(event, InformationalResponse):
            if not self.opened.done():
                self.opened.set_exception(ConnectionError(f"handshake answer {event!r}"))
            return
        self.handshake.validate(event)
        self.http = None
        self.opened.set_result(None)

    def start(self) -> None:
        """Send the first message (the loop continues from data_received)."""
        self.sent_at = time.perf_counter_ns()
        self.transport.write(self.frame)  # type: ignore[union-attr]


class IdleClient(asyncio.Protocol):
    """A connection that completes the handshake, then only answers pings."""

    def __init__(self, port: int, opened: asyncio.Future[None]) -> None:
        self.opened = opened
        self.handshake = ClientHandshake.start(f"127.0.0.1:{port}", "/")
        self.http = Connection(Role.CLIENT)
        self.ws: WSConnection | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.http.send(self.handshake.request) + self.http.send(END_OF_MESSAGE))  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self.ws is None:
            self.http.receive_data(data)
            event = self.http.next_event()
            if isinstance(event, InformationalResponse):
                self.ws = self.handshake.validate(event).connection(Role.CLIENT)
                self.opened.set_result(None)
            return
        self.ws.receive_data(data)
        list(self.ws.events())
        out = self.ws.data_to_send()
        if out and self.transport is not None:
            self.transport.write(out)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))


async def open_many(
    port: int,
    count: int,
    make: Callable[[asyncio.Future[None]], asyncio.Protocol],
    batch: int = 200,
) -> list[asyncio.Transport]:
    """Open ``count`` WebSocket connections, ``batch`` handshakes at a time."""
    loop = asyncio.get_running_loop()
    transports: list[asyncio.Transport] = []
    for start in range(0, count, batch):
        futures = []
        for _ in range(min(batch, count - start)):
            opened = loop.create_future()
            transport, _ = await loop.create_connection(
                lambda opened=opened: make(opened),
                "127.0.0.1",
                port,
            )
            transports.append(transport)
            futures.append(opened)
        await asyncio.wait_for(asyncio.gather(*futures), 30)
    return transports
