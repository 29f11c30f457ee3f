"""WebSocketSession driven through an in-memory transport (no sockets), with a real loop.

The transport below is a test double of asyncio's: it records what the session writes
and the pause/resume calls, and reports ``connection_lost`` on close as the real one
does. Frames we write are read back with the sans-IO core in the client role.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from ws_test_apps import app as ws_app

from bench.servers.asgi.config import ServerConfig
from bench.servers.asgi.state import ServerState
from bench.servers.asgi.websocket import Phase, WebSocketSession
from bench.servers.errors import ClientDisconnected
from bench.servers.protocol import (
    END_OF_MESSAGE,
    Connection,
    InformationalResponse,
    Request,
    Response,
    Role,
)
from bench.servers.protocol.websocket import (
    BytesMessage,
    CloseConnection,
    Ping,
    TextMessage,
    WSConnection,
)
from bench.servers.protocol.websocket.frames import Opcode, serialize_frame

KEY = base64.b64encode(b"0123456789abcdef")


class MemoryTransport(asyncio.Transport):
    """Records writes; close() reports connection_lost to the session on the next turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.written = bytearray()
        self.closing = False
        self.reading = True
        self.session: WebSocketSession | None = None

    def write(self, data: bytes) -> None:  # type: ignore[override]
        assert not self.closing, "write after close"
        self.written += data

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            if self.session is not None:
                self.loop.call_soon(self.session.connection_lost, None)

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def take(self) -> bytes:
        out = bytes(self.written)
        self.written.clear()
        return out


def upgrade_request(path: bytes = b"/", extra: list[tuple[bytes, bytes]] | None = None) -> Request:
    headers = [
        (b"host", b"example.com"),
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-key", KEY),
        (b"sec-websocket-version", b"13"),
        *(extra or []),
    ]
    return Request(b"GET", path, headers)


class Peer:
    """A client of the session: our sans-IO client core over the memory transport."""

    def __init__(self, session: WebSocketSession, transport: MemoryTransport) -> None:
        self.session = session
        self.transport = transport
        self.ws = WSConnection(Role.CLIENT, max_message_size=None)
        self.head: Response | InformationalResponse | None = None

    def read_head(self) -> Response | InformationalResponse:
        http = Connection(Role.CLIENT)
        http.send(upgrade_request())
        http.send(END_OF_MESSAGE)
        http.receive_data(self.transport.take())
        head = http.next_event()
        assert isinstance(head, InformationalResponse | Response)
        self.head = head
        trailing = http.trailing_data[0]
        if isinstance(head, InformationalResponse) and trailing:
            self.ws.receive_data(trailing)
        return head

    def send(self, event: Any) -> None:
        self.session.data_received(self.ws.send(event))

    def events(self) -> list[Any]:
        data = self.transport.take()
        if data:  # b"" would mean end of stream
            self.ws.receive_data(data)
        return list(self.ws.events())


def run(
    body: Callable[[WebSocketSession, MemoryTransport], Coroutine[Any, Any, None]],
    app: Any = ws_app,
    path: bytes = b"/",
    config: ServerConfig | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        transport = MemoryTransport(loop)
        session = WebSocketSession(
            transport=transport,
            loop=loop,
            app=app,
            config=config or ServerConfig(ws_ping_interval=None),
            server_state=ServerState(),
            request=upgrade_request(path, extra),
            scope_base={"server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5), "scheme": "ws"},
        )
        transport.session = session
        session.start()
        await body(session, transport)

    asyncio.run(main())


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the loop run until ``condition()`` holds (a deadline, not a sleep)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0)


def test_echo_and_close_handshake():
    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        await until(lambda: bool(transport.written))
        assert peer.read_head().status_code == 101
        peer.send(TextMessage("hi"))
        peer.send(BytesMessage(b"\x00"))
        await until(lambda: len(transport.written) >= 5)
        assert peer.events() == [TextMessage("hi"), BytesMessage(b"\x00")]
        peer.send(CloseConnection(1000))
        await until(lambda: transport.closing)
        assert peer.events() == [CloseConnection(1000, "")]

    run(body)


@pytest.mark.parametrize(
    ("path", "status", "body_text"),
    [(b"/reject", 403, b"403 Forbidden\n"), (b"/crash", 500, b"500 Internal Server Error\n")],
)
def test_close_or_error_before_accept_is_an_http_response(
    path: bytes, status: int, body_text: bytes
):
    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        await until(lambda: transport.closing)
        raw = transport.take()
        assert raw.startswith(b"HTTP/1.1 %d " % status)
        assert raw.endswith(body_text)
        assert session.phase is Phase.CLOSED

    run(body, path=path)


def test_denial_response_extension_streams_the_apps_response():
    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        await until(lambda: transport.closing)
        raw = transport.take()
        assert raw.startswith(b"HTTP/1.1 401 ")
        assert b"transfer-encoding: chunked" in raw.lower()
        assert b"who " in raw and b"are you?" in raw

    run(body, path=b"/deny")


def test_handshake_errors_are_answered_by_the_server_not_the_app():
    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        raw = transport.take()
        assert raw.startswith(b"HTTP/1.1 426 ")
        assert b"Sec-WebSocket-Version: 13" in raw
        assert session.scope is None  # the app never ran

    run(body, extra=[(b"sec-websocket-version", b"8")])


def test_app_error_after_accept_closes_with_1011():
    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        await until(lambda: bool(transport.written))
        peer.read_head()
        peer.send(TextMessage("trigger"))
        await until(lambda: session.phase is Phase.CLOSING)
        assert peer.events() == [CloseConnection(1011, "")]

    run(body, path=b"/crash-after")


def test_app_close_sends_its_code_and_the_peer_answer_ends_the_connection():
    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        await until(lambda: session.phase is Phase.CLOSING)
        peer.read_head()
        assert peer.events() == [CloseConnection(4001, "bye")]
        session.data_received(peer.ws.data_to_send())
        assert transport.closing

    run(body, path=b"/close")


def test_app_returning_after_accept_closes_with_1000():
    async def short(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})

    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        await until(lambda: session.phase is Phase.CLOSING)
        peer.read_head()
        assert peer.events() == [CloseConnection(1000, "")]

    run(body, app=short)


def test_bad_input_is_closed_with_its_code_and_reported_to_the_app():
    seen: list[dict] = []

    async def recorder(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        seen.append(await receive())
        with pytest.raises(ClientDisconnected):
            await send({"type": "websocket.send", "text": "too late"})

    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        await until(lambda: bool(transport.written))
        peer.read_head()
        session.data_received(serialize_frame(Opcode.TEXT, b"\xff\xfe", mask=b"mask"))
        await until(lambda: bool(seen) and session.phase is Phase.CLOSED)
        assert seen == [{"type": "websocket.disconnect", "code": 1007, "reason": seen[0]["reason"]}]
        assert [e.code for e in peer.events()] == [1007]

    run(body, app=recorder)


def test_slow_reader_app_pauses_reading_and_resumes_when_it_reads():
    gate = asyncio.Event()  # binds to the running loop on first use
    received: list[str] = []

    async def slow(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await gate.wait()
        while len(received) < 40:
            received.append((await receive())["text"])

    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        await until(lambda: bool(transport.written))
        peer.read_head()
        sent = 0
        while transport.reading and sent < 40:
            peer.send(TextMessage(str(sent)))
            sent += 1
        assert not transport.reading  # paused at ws_max_queue (32) unread messages
        assert sent == 32
        for late in range(sent, 40):
            peer.send(TextMessage(str(late)))  # what the kernel had already buffered
        gate.set()
        await until(lambda: len(received) == 40)
        assert transport.reading
        assert received == [str(i) for i in range(40)]

    run(body, app=slow)


def test_graceful_shutdown_closes_with_1012_and_tells_the_app():
    seen: list[dict] = []

    async def waiter(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "in flight"})
        seen.append(await receive())

    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        await until(lambda: bool(transport.written))
        peer.read_head()
        session.shutdown()
        await until(lambda: bool(seen))
        assert seen[0]["code"] == 1012
        events = peer.events()
        assert events[0] == TextMessage("in flight")
        assert events[1].code == 1012  # after the message already sent
        session.data_received(peer.ws.data_to_send())
        assert transport.closing

    run(body, app=waiter)


def test_keepalive_pings_and_closes_1011_without_pong():
    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        peer.ws.auto_pong = False
        await until(lambda: bool(transport.written))
        peer.read_head()
        await until(lambda: bool(transport.written), timeout=10)
        [ping] = peer.events()
        assert isinstance(ping, Ping) and len(ping.payload) == 4
        await until(lambda: transport.closing, timeout=10)
        assert peer.events() == [CloseConnection(1011, "keepalive ping timeout")]

    config = ServerConfig(ws_ping_interval=0.05, ws_ping_timeout=0.05)
    run(body, config=config)


def test_keepalive_keeps_a_responsive_peer():
    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        await until(lambda: bool(transport.written))
        peer.read_head()
        for _ in range(3):
            await until(lambda: bool(transport.written), timeout=10)
            [ping] = peer.events()
            assert isinstance(ping, Ping)
            session.data_received(peer.ws.data_to_send())  # the pong
        assert session.phase is Phase.OPEN and not transport.closing

    config = ServerConfig(ws_ping_interval=0.05, ws_ping_timeout=0.5)
    run(body, config=config)


def test_scope_fields():
    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        assert session.scope is not None
        scope = session.scope
        assert (scope["type"], scope["path"], scope["query_string"]) == (
            "websocket",
            "/scope",
            b"a=1",
        )
        assert scope["subprotocols"] == ["x", "y"]
        assert scope["extensions"] == {"websocket.http.response": {}}
        assert scope["asgi"]["version"] == "3.0"

    run(body, path=b"/scope?a=1", extra=[(b"sec-websocket-protocol", b"x, y")])


def test_accepting_a_subprotocol_the_client_did_not_offer_is_an_app_error():
    async def bad(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "not-offered"})

    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        await until(lambda: transport.closing)
        assert transport.take().startswith(b"HTTP/1.1 500 ")

    run(body, app=bad)


def test_send_waits_while_the_transport_is_paused_for_writing():
    progress: list[int] = []

    async def producer(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()  # the go signal from the peer
        for i in range(3):
            await send({"type": "websocket.send", "bytes": b"%d" % i})
            progress.append(i)

    async def body(session: WebSocketSession, transport: MemoryTransport) -> None:
        peer = Peer(session, transport)
        peer.read_head()
        session.pause_writing()  # the client reads slowly: the write buffer is full
        peer.send(TextMessage("go"))
        for _ in range(20):
            await asyncio.sleep(0)
        assert progress == []  # every send waits for the buffer to drain
        session.resume_writing()
        await until(lambda: len(progress) == 3)
        assert peer.events() == [BytesMessage(b"0"), BytesMessage(b"1"), BytesMessage(b"2")]

    run(body, app=producer)
