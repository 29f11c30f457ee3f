"""WebSocketSession: the ASGI ``websocket`` scope on an upgraded eventloop connection.

Theory of operation
-------------------
``HttpProtocol`` stays the transport's protocol. When a request asks for
``Upgrade: websocket`` it builds a session, calls ``start()`` and from then on forwards
``data_received``, ``connection_lost``, ``pause_writing`` and ``resume_writing`` here
(and ``shutdown()`` on a graceful server shutdown). The session is a thin shell around
the sans-IO core (``bench.servers.protocol.websocket``): bytes in, events out, events in,
bytes out.

Phases (``Phase``): HANDSHAKE until the app answers ``websocket.connect`` —
``websocket.accept`` sends the 101 and opens the connection, ``websocket.close`` answers
403, ``websocket.http.response.start`` (the denial-response extension) sends the app's
own response (RESPONDING). OPEN: messages flow. CLOSING: our Close is sent; the peer's
answer (or a timeout) ends it. CLOSED: the transport is closing; ``send`` raises
``ClientDisconnected``; ``receive`` returns ``websocket.disconnect``.

Back-pressure: received messages wait in a deque for ``receive()``; at
``ws_max_queue`` of them reading pauses, and resumes when the app has taken half.
``send()`` waits while the transport's write buffer is above its high-water mark, and
reading pauses meanwhile (a peer flooding Pings it never reads the Pongs of stops
being read), resuming when the buffer drains.
Bytes that arrive before the app accepts are kept (reading pauses past a limit).

Keepalive: every ``ws_ping_interval`` seconds a Ping with a random payload; no
matching Pong within ``ws_ping_timeout`` closes with 1011. Graceful shutdown closes
with 1012 (service restart) after what the app already sent, and tells the app.

Errors: the peer's protocol violations are answered by the core (1002/1007/1009) and
reported to the app as ``websocket.disconnect`` with that code. An app exception
before accepting becomes a 500, after accepting a close with 1011; one log line.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from bench.servers.asgi import eager
from bench.servers.asgi.config import ServerConfig
from bench.servers.asgi.cycle import describe_exception
from bench.servers.asgi.state import ServerState
from bench.servers.asgi.ws_handshake import answering_connection, websocket_scope
from bench.servers.asgi.ws_keepalive import Keepalive
from bench.servers.errors import ClientDisconnected
from bench.servers.protocol import (
    END_OF_MESSAGE,
    Connection,
    Data,
    LocalProtocolError,
    Request,
    Response,
    Role,
    error_response,
)
from bench.servers.protocol.websocket import (
    BytesMessage,
    CloseConnection,
    DeflateConfig,
    HandshakeError,
    Offer,
    Ping,
    Pong,
    TextMessage,
    WSConnection,
    accept,
    rejection,
    validate_request,
)

logger = logging.getLogger("bench.eventloop")

#: Seconds we wait for the peer's Close after sending ours before dropping the connection.
CLOSE_TIMEOUT = 10.0
#: Bytes received before the app accepts beyond which reading pauses.
EARLY_DATA_LIMIT = 64 * 1024
_PLAIN = [(b"content-type", b"text/plain; charset=utf-8")]


class Phase(enum.Enum):
    """Where a session is in its life (see the module docstring)."""

    HANDSHAKE = "HANDSHAKE"
    RESPONDING = "RESPONDING"
    OPEN = "OPEN"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"


class WebSocketSession:
    """One WebSocket connection served to an ASGI app (see the module docstring)."""

    __slots__ = (
        "_close_timer",
        "_disconnect",
        "_drain_waiters",
        "_early",
        "_http",
        "_inbox",
        "_keepalive",
        "_offer",
        "_read_paused",
        "_waiter",
        "_write_paused",
        "app",
        "config",
        "loop",
        "phase",
        "request",
        "scope",
        "scope_base",
        "server_state",
        "transport",
        "ws",
    )

    def __init__(
        self,
        *,
        transport: asyncio.Transport,
        loop: asyncio.AbstractEventLoop,
        app: Callable[..., Any],
        config: ServerConfig,
        server_state: ServerState,
        request: Request,
        scope_base: dict[str, Any],
        trailing_data: bytes = b"",
    ) -> None:
        self.transport = transport
        self.loop = loop
        self.app = app
        self.config = config
        self.server_state = server_state
        self.request = request
        self.scope_base = scope_base
        self.scope: dict[str, Any] | None = None
        self.phase = Phase.HANDSHAKE
        self.ws: WSConnection | None = None
        self._offer: Offer | None = None
        self._http: Connection | None = None
        self._early = bytearray(trailing_data)
        self._inbox: deque[dict[str, Any]] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._disconnect: dict[str, Any] | None = None
        self._read_paused = False
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._close_timer: asyncio.TimerHandle | None = None
        self._keepalive = Keepalive(
            loop,
            config.ws_ping_interval,
            config.ws_ping_timeout,
            self._send_ping,
            self._ping_timed_out,
        )

    # -- called by HttpProtocol -------------------------------------------------------

    def start(self) -> None:
        """Check the handshake request; run the app with ``websocket.connect`` waiting."""
        try:
            offer = validate_request(self.request)
        except HandshakeError as exc:
            response, body = rejection(exc)
            self._respond(response, body)
            return
        self._offer = offer
        self.scope = websocket_scope(self.request, offer, self.scope_base)
        self._inbox.append({"type": "websocket.connect"})
        if len(self._early) > EARLY_DATA_LIMIT:
            self._pause_reading()
        try:
            coro = self.app(self.scope, self.receive, self.send)
        except Exception as exc:
            self._app_done(exc)
            return
        eager.start(coro, self.loop, self._app_done, self.server_state.tasks)

    def data_received(self, data: bytes) -> None:
        """Bytes from the peer."""
        ws = self.ws
        if ws is None:
            if self.phase is Phase.HANDSHAKE:
                self._early += data
                if len(self._early) > EARLY_DATA_LIMIT:
                    self._pause_reading()
            return
        ws.receive_data(data)
        self._process()

    def connection_lost(self, exc: Exception | None) -> None:
        """The transport closed: tell the app, wake every waiter, stop the timers."""
        self.phase = Phase.CLOSED
        self._cancel_timers()
        code = 1006
        if self.ws is not None and self.ws.close_code is not None:
            code = self.ws.close_code
        self._deliver_disconnect(code, "")
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._drain_waiters.clear()

    def pause_writing(self) -> None:
        """The transport's write buffer is above its high-water mark.

        Reading pauses too: what the peer sends may make us owe it more (a Pong per
        Ping, a Close answer), and a peer that floods without reading must not grow
        our memory. Reading resumes when the buffer drains.
        """
        self._write_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        """The transport's write buffer drained below its low-water mark."""
        self._write_paused = False
        if self._read_paused and self._may_read():
            self._resume_reading()
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def shutdown(self, code: int = 1012) -> None:
        """Graceful server shutdown: close with ``code`` (1012 service restart, or 1001)."""
        phase = self.phase
        if phase is Phase.OPEN:
            self._close(code, "server shutting down")
            self._deliver_disconnect(code, "")
        elif phase is Phase.HANDSHAKE:
            self._respond(Response(503, _PLAIN), b"server shutting down\n")
        elif phase is Phase.CLOSING:
            pass  # our Close is out; the peer's answer or the close timer ends it

    # -- receiving ----------------------------------------------------------------------

    def _process(self) -> None:
        ws = self.ws
        assert ws is not None
        inbox = self._inbox
        for event in ws.events():
            kind = type(event)
            if kind is TextMessage:
                inbox.append({"type": "websocket.receive", "text": event.data})  # type: ignore[union-attr]
            elif kind is BytesMessage:
                inbox.append({"type": "websocket.receive", "bytes": event.data})  # type: ignore[union-attr]
            elif kind is Pong:
                self._keepalive.pong(event.payload)  # type: ignore[union-attr]
            elif kind is CloseConnection:
                out = ws.data_to_send()
                if out and not self.transport.is_closing():
                    self.transport.write(out)
                self._deliver_disconnect(event.code, event.reason)  # type: ignore[union-attr]
                self._finish()
                return
            # Ping: the core has queued the Pong already.
        out = ws.data_to_send()
        if out:
            self.transport.write(out)
        if inbox:
            self._wake()
            if len(inbox) >= self.config.ws_max_queue:
                self._pause_reading()

    def _deliver_disconnect(self, code: int, reason: str) -> None:
        if self._disconnect is None:
            self._disconnect = {"type": "websocket.disconnect", "code": code, "reason": reason}
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def receive(self) -> dict[str, Any]:
        """ASGI receive: ``websocket.connect``, ``websocket.receive``…, ``websocket.disconnect``."""
        inbox = self._inbox
        while True:
            if inbox:
                message = inbox.popleft()
                if self._read_paused and len(inbox) <= self.config.ws_max_queue // 2:
                    self._resume_reading()
                return message
            if self._disconnect is not None:
                return dict(self._disconnect)
            waiter = self._waiter
            if waiter is None:
                waiter = self._waiter = self.loop.create_future()
            await waiter

    # -- sending ------------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        """ASGI send: accept / close / http.response before the handshake, send / close after."""
        if self._write_paused and not self.transport.is_closing():
            waiter = self.loop.create_future()
            self._drain_waiters.append(waiter)
            await waiter
        kind = message["type"]
        phase = self.phase
        if self.transport.is_closing():
            phase = Phase.CLOSED  # closed, and connection_lost perhaps not delivered yet
        if phase is Phase.OPEN:
            if kind == "websocket.send":
                self._send_message(message)
            elif kind == "websocket.close":
                self._close(message.get("code") or 1000, message.get("reason") or "")
            else:
                raise RuntimeError(f"expected 'websocket.send' or 'websocket.close', got {kind!r}")
        elif phase is Phase.HANDSHAKE:
            try:
                self._handshake_reply(kind, message)
            except LocalProtocolError as exc:
                raise RuntimeError(f"invalid {kind}: {exc}") from None
        elif phase is Phase.RESPONDING:
            if kind != "websocket.http.response.body":
                raise RuntimeError(f"expected 'websocket.http.response.body', got {kind!r}")
            self._response_body(message)
        else:
            raise ClientDisconnected("the WebSocket connection is closed")

    def _send_message(self, message: dict[str, Any]) -> None:
        ws = self.ws
        assert ws is not None
        data = message.get("bytes")
        if data is not None:
            out = ws.send(BytesMessage(data))
        else:
            text = message.get("text")
            if text is None:
                raise RuntimeError("websocket.send needs 'bytes' or 'text'")
            out = ws.send(TextMessage(text))
        self.transport.write(out)

    def _handshake_reply(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            self._refuse(403)
        elif kind == "websocket.http.response.start":
            http = self._http_conn()
            head = http.send(Response(message["status"], list(message.get("headers", ()))))
            self.transport.write(head)
            self.phase = Phase.RESPONDING
        else:
            raise RuntimeError(
                "expected 'websocket.accept', 'websocket.close' or "
                f"'websocket.http.response.start', got {kind!r}"
            )

    def _accept(self, message: dict[str, Any]) -> None:
        assert self._offer is not None
        config = self.config
        headers = [(bytes(name), bytes(value)) for name, value in message.get("headers", ())]
        accepted = accept(
            self._offer,
            subprotocol=message.get("subprotocol"),
            extra_headers=headers,
            deflate=DeflateConfig() if config.ws_per_message_deflate else None,
        )
        assert accepted.response is not None
        self.transport.write(self._http_conn().send(accepted.response))
        self._http = None
        self.ws = accepted.connection(Role.SERVER, max_message_size=config.ws_max_size)
        self.phase = Phase.OPEN
        self._keepalive.start()
        early = bytes(self._early)
        self._early = bytearray()
        if self._read_paused and len(self._inbox) < config.ws_max_queue:
            self._resume_reading()
        if early:
            self.ws.receive_data(early)
            self._process()

    def _response_body(self, message: dict[str, Any]) -> None:
        http = self._http_conn()
        body = message.get("body", b"")
        out = http.send(Data(body)) if body else b""
        if not message.get("more_body", False):
            out += http.send(END_OF_MESSAGE)
            self.transport.write(out)
            self._finish()
            self._deliver_disconnect(1006, "")
        elif out:
            self.transport.write(out)

    def _respond(self, response: Response, body: bytes) -> None:
        """Answer the upgrade request with a plain HTTP response, then close."""
        if not self.transport.is_closing():
            headers = list(response.headers)
            if not any(name.lower() == b"content-length" for name, _ in headers):
                headers.append((b"content-length", b"%d" % len(body)))
            http = self._http_conn()
            out = http.send(Response(response.status_code, headers)) + http.send(Data(body))
            self.transport.write(out + http.send(END_OF_MESSAGE))
        self._finish()
        self._deliver_disconnect(1006, "")

    def _refuse(self, status: int) -> None:
        """Answer the upgrade request with the canned error response, then close."""
        if not self.transport.is_closing():
            self.transport.write(error_response(self._http_conn(), status))
        self._finish()
        self._deliver_disconnect(1006, "")

    def _http_conn(self) -> Connection:
        if self._http is None:
            self._http = answering_connection(self.request, self.config.server_header_value)
        return self._http

    def _close(self, code: int, reason: str) -> None:
        """Send our Close and wait (at most CLOSE_TIMEOUT) for the peer's."""
        ws = self.ws
        assert ws is not None
        try:
            out = ws.send(CloseConnection(code, reason))
        except LocalProtocolError as exc:
            raise RuntimeError(f"invalid websocket.close: {exc}") from None
        self.transport.write(out)
        self.phase = Phase.CLOSING
        self._keepalive.stop()
        self._close_timer = self.loop.call_later(CLOSE_TIMEOUT, self._finish)

    def _finish(self) -> None:
        """The closing handshake is over (or given up): close the transport."""
        self.phase = Phase.CLOSED
        self._cancel_timers()
        self.transport.close()

    # -- keepalive --------------------------------------------------------------------

    def _send_ping(self, payload: bytes) -> None:
        if self.phase is Phase.OPEN and self.ws is not None:
            self.transport.write(self.ws.send(Ping(payload)))

    def _ping_timed_out(self) -> None:
        if self.phase is Phase.OPEN and self.ws is not None:
            self.transport.write(self.ws.send(CloseConnection(1011, "keepalive ping timeout")))
            self._deliver_disconnect(1011, "keepalive ping timeout")
            self._finish()

    def _cancel_timers(self) -> None:
        self._keepalive.stop()
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None

    # -- flow control -----------------------------------------------------------------

    def _pause_reading(self) -> None:
        if not self._read_paused and not self.transport.is_closing():
            self._read_paused = True
            self.transport.pause_reading()

    def _may_read(self) -> bool:
        """Whether no other reason to pause holds (a full inbox, early data)."""
        if self.ws is None:
            return len(self._early) <= EARLY_DATA_LIMIT
        return len(self._inbox) <= self.config.ws_max_queue // 2

    def _resume_reading(self) -> None:
        if self._read_paused and not self._write_paused:
            self._read_paused = False
            if not self.transport.is_closing():
                self.transport.resume_reading()

    # -- the app's end ------------------------------------------------------------------

    def _app_done(self, exc: BaseException | None) -> None:
        """The app returned or raised: finish what it left open."""
        phase = self.phase
        failed = exc is not None and not isinstance(
            exc, (ClientDisconnected, asyncio.CancelledError)
        )
        if failed:
            assert exc is not None
            path = self.scope["path"] if self.scope else "?"
            logger.error("websocket %s: app error: %s", path, describe_exception(exc))
        if phase is Phase.HANDSHAKE:
            if not failed:
                logger.error("websocket: app returned without accepting or closing")
            self._refuse(500)
        elif phase is Phase.RESPONDING:
            self._finish()
        elif phase is Phase.OPEN:
            self._close(1011 if failed else 1000, "")
