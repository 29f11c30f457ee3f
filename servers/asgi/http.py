"""HttpProtocol: the asyncio.Protocol of one HTTP/1.1 connection, a thin shell over the core.

Theory of operation
-------------------
Bytes in: ``data_received`` feeds ``bench.servers.protocol.Connection`` and ``_process``
turns its events into a request *cycle* (``cycle.HttpCycle`` for ASGI apps,
``wsgi.WSGICycle`` for WSGI apps): ``Request`` creates the cycle, ``Data`` and
``EndOfMessage`` feed its body. The app's start is scheduled with ``call_soon`` once
the bytes at hand are parsed (a GET is complete by then): one loop iteration parses what
every ready connection sent, then runs the apps — each without a Task unless it waits
(``eager``). Measured against starting apps inside the read callback, this batching
gave about 10 % more requests/s and a lower p99 (hello world, one core). Bytes out: the cycle serializes the app's response through the same core and writes
it; when it is complete it calls ``cycle_finished``, which re-arms keep-alive or
closes, and resumes parsing if pipelined requests are waiting (the core answers them
strictly in order: it returns ``PAUSED`` until our response is done).

Timeouts without per-request timers: every connection carries a ``deadline``
(monotonic seconds); the server's once-a-second tick closes expired connections. Idle
keep-alive: ``timeout_keep_alive``. Reading a request head:
``timeout_header_read`` from the first byte, not extended by further bytes (a
byte-a-second client is closed). While the app handles a request: no deadline.

Back-pressure: reading pauses when a request body piles up unread beyond
``cycle.HIGH_WATER`` or when pipelined bytes arrive while a response is in progress; it
resumes when the app reads or the response completes. Writing: the transport calls
``pause_writing``/``resume_writing`` and ``send()`` waits in ``drain()``. What is owed
to the client is bounded too: a response that completes while the transport's write
buffer is above its high-water mark (a client that pipelines and never reads) leaves
reading paused and the next request unparsed until the buffer drains.

Half-close: an EOF from the client ends its sending, not its reading (RFC 9112 §9.6).
The response in progress (and complete pipelined requests already received) is
finished, then the connection closes. An ASGI app waiting in ``receive()`` after the
whole body gets ``http.disconnect`` at the FIN (nothing more can come), but what it
sends is still delivered; a head cut short by the FIN is answered 400.

Rejections: a RemoteProtocolError from the core is answered with its status
(400/413/414/431/501/505) and ``Connection: close``, then the connection is closed;
nothing is logged (malformed traffic must not flood the log).

WebSocket hand-off: a request the core's rule calls a WebSocket upgrade
(``is_websocket_upgrade``; only scanned when the core saw ``Connection: upgrade``) on
the ASGI interface is passed to ``bench.servers.asgi.websocket.WebSocketSession``; the session
then receives the connection's bytes and transport callbacks.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from typing import Any

from bench.servers.asgi.config import ServerConfig
from bench.servers.asgi.cycle import HIGH_WATER, describe_exception
from bench.servers.asgi.scope import scope_template, socket_addresses
from bench.servers.asgi.state import ServerState
from bench.servers.asgi.websocket import WebSocketSession
from bench.servers.protocol import (
    NEED_DATA,
    PAUSED,
    Connection,
    Data,
    EndOfMessage,
    RemoteProtocolError,
    Request,
    Role,
    State,
    error_response,
)
from bench.servers.protocol.websocket import is_websocket_upgrade

logger = logging.getLogger("bench.eventloop")
_now = time.monotonic

#: Seconds an idle keep-alive connection stays open after a graceful shutdown began,
#: for a request its client may be sending already (closed by the next tick after).
SHUTDOWN_IDLE_GRACE = 0.5


class ProtocolContext:
    """What every connection of one server shares: app, settings, state, loop.

    ``cycle_factory(protocol, request)`` creates the request cycle for the interface;
    ``wsgi`` is what the WSGI interface's cycles share (``wsgi.WSGIRuntime``), else None.
    """

    __slots__ = (
        "app",
        "config",
        "cycle_factory",
        "interface",
        "limit_concurrency",
        "loop",
        "root_path",
        "state",
        "timeout_header_read",
        "timeout_keep_alive",
        "wsgi",
    )

    def __init__(
        self,
        app: Callable[..., Any],
        interface: str,
        config: ServerConfig,
        state: ServerState,
        loop: asyncio.AbstractEventLoop,
        cycle_factory: Callable[[HttpProtocol, Request], Any],
        wsgi: Any = None,
    ) -> None:
        self.app = app
        self.interface = interface
        self.config = config
        self.state = state
        self.loop = loop
        self.cycle_factory = cycle_factory
        #: The WSGI interface's thread pool and inline policy (``wsgi.WSGIRuntime``).
        self.wsgi = wsgi
        # Settings read on every request, copied here to save attribute lookups.
        self.limit_concurrency = config.limit_concurrency
        self.timeout_header_read = config.timeout_header_read
        self.timeout_keep_alive = config.timeout_keep_alive
        self.root_path = config.root_path


class HttpProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection (see the module docstring)."""

    __slots__ = (
        "_drain_waiters",
        "_upgrade",
        "client",
        "conn",
        "context",
        "ctx",
        "cycle",
        "deadline",
        "drain_pending",
        "fresh",
        "half_closed",
        "idle",
        "loop",
        "parse_paused",
        "pipelined",
        "read_paused",
        "scope_template",
        "server",
        "state",
        "transport",
        "websocket",
        "write_paused",
        "wsgi_environ",
    )

    def __init__(self, ctx: ProtocolContext) -> None:
        self.ctx = ctx
        self.loop = ctx.loop
        self.state = ctx.state
        config = ctx.config
        self.conn = Connection(Role.SERVER, config.limits, config.server_header_value)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: Any = None
        self.client: Any = None
        self.scope_template: dict[str, Any] = {}
        self.context: contextvars.Context = contextvars.Context()
        self.cycle: Any = None
        self.deadline: float | None = None
        #: A response completed while the client was not reading: no next request is
        #: taken until the transport drains (resume_writing).
        self.drain_pending = False
        self.fresh = True  # no request parsed yet on this connection
        #: The client half-closed (EOF): serve what it sent, then close.
        self.half_closed = False
        self.idle = True
        self.parse_paused = False
        self.pipelined = 0
        self.read_paused = False
        self.write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] | None = None
        self._upgrade: Request | None = None
        self.websocket: Any = None
        #: The WSGI environ entries all requests of this connection share (built once).
        self.wsgi_environ: dict[str, Any] | None = None

    # -- asyncio.Protocol -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server, self.client = socket_addresses(
            transport.get_extra_info("sockname"), transport.get_extra_info("peername")
        )
        scheme = "https" if transport.get_extra_info("sslcontext") is not None else "http"
        self.scope_template = scope_template(self.server, self.client, scheme, self.ctx.root_path)
        # Apps start in copies of this context, never in the context of the app whose
        # response completion let the next pipelined request be parsed.
        self.context = contextvars.copy_context()
        state = self.state
        state.connections.add(self)
        # Also during a graceful shutdown: a fresh connection gets its first request
        # served (with Connection: close) or is closed at this deadline.
        self.deadline = _now() + self.ctx.timeout_header_read

    def data_received(self, data: bytes) -> None:
        if self.websocket is not None:
            self.websocket.data_received(data)
            return
        self.conn.receive_data(data)
        if self.parse_paused:
            # Pipelined bytes while a response is in progress: the core keeps them; past
            # the high-water mark, stop reading until the response is done. (Reading is
            # not paused sooner: a paused transport cannot notice the client leaving.)
            self.pipelined += len(data)
            if self.pipelined > HIGH_WATER:
                self.pause_reading()
            return
        if self.idle:
            self.idle = False
            self.deadline = _now() + self.ctx.timeout_header_read
        self._process()

    def eof_received(self) -> bool | None:
        """The client half-closed: it will send nothing more, but may still read.

        RFC 9112 §9.6: finish the response owed (and any complete pipelined request
        already buffered), then close. The core is told of the EOF, so a request cut
        short is refused (400) and a connection between requests closes at once.
        """
        if self.websocket is not None:
            return None
        self.half_closed = True
        self.conn.receive_data(b"")
        if self.cycle is None and not self.drain_pending:
            self._process()  # ConnectionClosed (close), or 400 for a cut-off head
            return None
        if not self.parse_paused:
            self._process()  # a body cut short: 400; a complete one: PAUSED
        cycle = self.cycle
        if cycle is not None and self.conn.their_state is not State.SEND_BODY:
            cycle.peer_finished()
        return True  # keep the transport: _next_cycle closes after the responses

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.remove_connection(self)
        self.deadline = None
        if self.websocket is not None:
            self.websocket.connection_lost(exc)
        cycle = self.cycle
        if cycle is not None:
            self.cycle = None
            cycle.lost()
        self._wake_drain_waiters()

    def pause_writing(self) -> None:
        if self.websocket is not None:
            self.websocket.pause_writing()
            return
        self.write_paused = True

    def resume_writing(self) -> None:
        if self.websocket is not None:
            self.websocket.resume_writing()
            return
        self.write_paused = False
        self._wake_drain_waiters()
        if self.drain_pending:
            self.drain_pending = False
            if not self.transport.is_closing():
                self._next_cycle()

    # -- parsing --------------------------------------------------------------------

    def _process(self) -> None:
        """Parse every event the buffered bytes allow and drive the cycles.

        Apps are not run from here: their start is scheduled (``call_soon``), so a loop
        iteration first parses what every ready connection sent, then runs the apps and
        writes the responses — fairer (a lower p99) and faster than running each app
        inside its connection's read callback. No Task is involved unless the app waits.
        """
        conn = self.conn
        starting = None  # a cycle whose app starts once the bytes at hand are parsed
        while True:
            try:
                event = conn.next_event()
            except RemoteProtocolError as exc:
                self._reject(exc.status_code)
                return
            except Exception as exc:  # a bug in the core: one line, not a traceback per request
                logger.error("HTTP core failed: %s", describe_exception(exc))
                self._reject(500)
                return
            kind = type(event)
            if kind is Request:
                self.idle = False
                self.fresh = False
                self.deadline = None
                starting = self._begin(event)  # type: ignore[arg-type]
                if starting is None and self.transport.is_closing():
                    return
            elif kind is Data:
                cycle = self.cycle
                if cycle is not None:
                    cycle.feed(event.data)  # type: ignore[union-attr]
            elif kind is EndOfMessage:
                if self._upgrade is not None:
                    self._start_websocket()
                    return
                cycle = self.cycle
                if cycle is None:
                    continue
                cycle.body_complete()
                if starting is not None:
                    starting = None
                    self.loop.call_soon(cycle.start, context=self.context)
                elif cycle.response_complete:
                    self.cycle_finished(cycle)
            elif event is NEED_DATA:
                break
            elif event is PAUSED:
                self.parse_paused = True
                break
            else:  # ConnectionClosed: the peer finished cleanly between requests
                self.transport.close()
                return
        if starting is not None:  # the body is still arriving: the app reads it as it comes
            self.loop.call_soon(starting.start, context=self.context)

    def _begin(self, request: Request) -> Any:
        """Create the cycle of a new request (or answer 503, or set up an upgrade)."""
        ctx = self.ctx
        state = self.state
        limit = ctx.limit_concurrency
        if limit is not None and (state.in_flight >= limit or len(state.connections) > limit):
            self._reject(503)
            return None
        if (
            self.conn.upgrade_requested
            and ctx.interface == "asgi"
            and is_websocket_upgrade(request)
        ):
            self._upgrade = request
            return None
        cycle = ctx.cycle_factory(self, request)
        self.cycle = cycle
        return cycle

    def _reject(self, status: int) -> None:
        """Answer a refused request with ``status`` (if a response can still start), close."""
        cycle = self.cycle
        if cycle is not None:
            self.cycle = None
            cycle.lost()
        transport = self.transport
        if self.conn.our_state is State.IDLE and not transport.is_closing():
            try:
                transport.write(error_response(self.conn, status))
            except Exception as exc:
                logger.error("HTTP core failed: %s", describe_exception(exc))
        transport.close()

    def _start_websocket(self) -> None:
        """Hand the connection to a WebSocketSession (servers.asgi.websocket)."""
        request = self._upgrade
        self._upgrade = None
        trailing, _eof = self.conn.trailing_data
        ctx = self.ctx
        self.deadline = None
        self.websocket = WebSocketSession(
            transport=self.transport,
            loop=self.loop,
            app=ctx.app,
            config=ctx.config,
            server_state=self.state,
            request=request,
            scope_base={
                "server": self.server,
                "client": self.client,
                "scheme": "wss" if self.scope_template["scheme"] == "https" else "ws",
                "root_path": ctx.config.root_path,
                "state": self.state.app_state.copy(),
            },
            trailing_data=trailing,
        )
        self.websocket.start()

    # -- called by cycles -------------------------------------------------------------

    def cycle_finished(self, cycle: Any) -> None:
        """The response of ``cycle`` is complete: keep the connection alive, or close it."""
        conn = self.conn
        if not conn.keep_alive:
            self.transport.close()  # the cycle stays: body bytes still parsed are discarded
            return
        if conn.our_state is not State.IDLE:
            # The request body is still arriving: read (and discard) it first, within
            # the header-read timeout (a client that stops sending is closed).
            self.deadline = _now() + self.ctx.timeout_header_read
            if self.read_paused:
                self.resume_reading()
            return
        self.cycle = None
        state = self.state
        if state.shutting_down:
            self.transport.close()
            return
        if self.write_paused:
            # What we owe the client is past the transport's high-water mark (it does
            # not read, e.g. pipelining without reading): take no more requests and
            # read no more bytes until it drains, so memory stays bounded.
            self.drain_pending = True
            self.pause_reading()
            return
        self._next_cycle()

    def _next_cycle(self) -> None:
        """Keep-alive: wait for the next request, or parse the pipelined ones buffered."""
        self.idle = True
        self.deadline = _now() + self.ctx.timeout_keep_alive
        if self.parse_paused or self.half_closed:
            # Bytes may be waiting (pipelined requests): parse them now. Safe from inside
            # an app's send(): parsing only schedules the next app, it never runs it.
            # After a half-close the core reports the end (ConnectionClosed: close).
            self.parse_paused = False
            if self.websocket is None and not self.transport.is_closing():
                self._process()
        # Read on only while the pipelined bytes not parsed yet stay below the bound
        # (else each response would let another read's worth of requests pile up).
        self.pipelined = self.conn.buffered
        if self.read_paused and (self.pipelined <= HIGH_WATER or self.websocket is not None):
            self.resume_reading()

    def pause_reading(self) -> None:
        """Stop reading from the socket (back-pressure)."""
        if not self.read_paused and not self.transport.is_closing():
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        """Resume reading from the socket."""
        if self.read_paused:
            self.read_paused = False
            if not self.transport.is_closing():
                self.transport.resume_reading()

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its low-water mark (or lost)."""
        if not self.write_paused or self.transport.is_closing():
            return
        waiter = self.loop.create_future()
        if self._drain_waiters is None:
            self._drain_waiters = []
        self._drain_waiters.append(waiter)
        await waiter

    def _wake_drain_waiters(self) -> None:
        waiters = self._drain_waiters
        if waiters:
            self._drain_waiters = None
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    # -- called by the server ---------------------------------------------------------

    def on_timeout(self) -> None:
        """The keep-alive or header-read deadline passed: close."""
        self.deadline = None
        self.transport.close()

    def shutdown(self) -> None:
        """Graceful shutdown: no connection between requests is cut while a request may be coming.

        - a request in progress (or its body still arriving) is finished; its response
          carries ``Connection: close``;
        - a connection that has not parsed a request yet (accepted, nothing or part of a
          head received) is kept: its client is likely sending the request right now,
          and closing would fail it. It is served once, with ``Connection: close``, or
          closed at its header-read deadline (or the graceful timeout);
        - an idle keep-alive connection is closed by the first tick after
          ``SHUTDOWN_IDLE_GRACE`` (or its keep-alive deadline, if sooner) unless a
          request arrives first, which is served with ``Connection: close``. Closing it
          at once races with a client already sending on it (a client only sees the
          close after it has picked the connection from its pool): under load about a
          request per thousand failed that way during a prefork reload.
        """
        if self.websocket is not None:
            self.websocket.shutdown()
            return
        if self.drain_pending:
            self.transport.close()  # the responses owed are flushed first
            return
        if self.cycle is not None or self.fresh or not self.idle:
            return
        grace = _now() + SHUTDOWN_IDLE_GRACE
        if self.deadline is None or self.deadline > grace:
            self.deadline = grace

    def abort(self) -> None:
        """Close now, dropping anything unsent."""
        self.transport.abort()
