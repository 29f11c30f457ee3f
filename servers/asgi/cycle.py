"""HttpCycle: one request/response of an ASGI app — its ``receive`` and ``send``.

Theory of operation
-------------------
The protocol feeds the request body in (``feed``, ``body_complete``) and tells the
cycle when the connection is gone (``lost``). ``receive()`` hands out what is buffered
as ``http.request`` messages, waiting on a future only when nothing is there.
``send()`` holds ``http.response.start`` until the first body message, so that a
response whose body comes in one message (``more_body`` false) goes out in a single
``transport.write`` with a ``Content-Length`` (no chunked framing). Later body
messages are written as they come, after waiting for the transport to drain if the
client reads slowly.

The app is started with ``eager.start``: it runs synchronously until it first waits,
and only then becomes a Task. When it ends, ``_app_done`` checks the outcome: an
exception before the response head went out becomes a 500; after that, the
connection is closed (the client sees a truncated response). Either way one log line.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bench.servers.asgi import eager
from bench.servers.asgi.scope import scope_from_template
from bench.servers.errors import ClientDisconnected
from bench.servers.protocol import (
    END_OF_MESSAGE,
    Data,
    InformationalResponse,
    LocalProtocolError,
    Request,
    Response,
    State,
    error_response,
    whole_headers,
)

if TYPE_CHECKING:
    from bench.servers.asgi.http import HttpProtocol

logger = logging.getLogger("bench.eventloop")

HIGH_WATER = 64 * 1024
_DISCONNECT: dict[str, str] = {"type": "http.disconnect"}
_CLOSE_HEADER = (b"connection", b"close")
#: Bodies above this size are written with writelines (no copy into one buffer).
_JOIN_LIMIT = 64 * 1024


def describe_exception(exc: BaseException) -> str:
    """``Type: message (at file:line)`` of the innermost frame: one log line, no traceback."""
    tb = exc.__traceback__
    where = ""
    if tb is not None:
        while tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code
        where = f" (at {code.co_filename}:{tb.tb_lineno} in {code.co_name})"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"


class BaseCycle:
    """What every request cycle shares: body buffering, accounting, head and error writing.

    Subclasses implement ``start`` (run the app) and may override the hooks.
    """

    __slots__ = (
        "_buffered",
        "_chunks",
        "_head_written",
        "_more_body",
        "disconnected",
        "protocol",
        "request",
        "response_complete",
        "response_started",
    )

    def __init__(self, protocol: HttpProtocol, request: Request) -> None:
        self.protocol = protocol
        self.request = request
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._more_body = True
        self._head_written = False
        self.response_started = False
        self.response_complete = False
        self.disconnected = False
        protocol.state.in_flight += 1

    # -- fed by the protocol --------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """A piece of request body arrived."""
        if self.response_complete or self.disconnected:
            return  # nobody will read it: discard
        self._chunks.append(data)
        self._buffered += len(data)
        self._body_arrived()

    def body_complete(self) -> None:
        """The request body ended."""
        self._more_body = False
        self._body_arrived()

    def lost(self) -> None:
        """The connection closed (or was refused): every later send raises."""
        if not self.disconnected:
            self.disconnected = True
            if not self.response_complete:
                self.protocol.state.in_flight -= 1
            self._body_arrived()

    def peer_finished(self) -> None:
        """Hook: the client half-closed after its whole body (it may still read)."""

    def _body_arrived(self) -> None:
        """Hook: body bytes, the body's end or a disconnect arrived."""

    def start(self) -> None:
        """Run the application for this request."""
        raise NotImplementedError

    def _take_body(self) -> bytes:
        """Return and clear the buffered body bytes."""
        chunks = self._chunks
        if len(chunks) == 1:
            body = chunks[0]
        elif chunks:
            body = b"".join(chunks)
        else:
            return b""
        chunks.clear()
        self._buffered = 0
        return body

    # -- writing --------------------------------------------------------------------

    def _head_bytes(self, status: int, headers: Any, body: bytes, more: bool) -> bytes:
        """Serialize a response head with its first body piece (and the end if ``more`` is false).

        A body that is complete in this one piece gets a Content-Length, unless the app
        set one or the response cannot have a body. Raises LocalProtocolError.
        """
        protocol = self.protocol
        conn = protocol.conn
        if protocol.state.shutting_down:
            headers = [*headers, _CLOSE_HEADER]
        if not more:
            if len(body) <= _JOIN_LIMIT:
                # The whole response in one core call: most responses are this one (with
                # the C path, 93,500 -> 74,300 instructions per hello cycle, shell_cycle.py).
                out = conn.send_whole(status, headers, body)
                self._head_written = True
                return out
            headers = whole_headers(status, self.request.method, headers, len(body))
        head = conn.send(Response(status, headers))
        data = conn.send(Data(body)) if body else b""
        tail = conn.send(END_OF_MESSAGE) if not more else b""
        self._head_written = True
        if len(data) > _JOIN_LIMIT:
            protocol.transport.writelines([head, data, tail])
            return b""
        return head + data + tail

    def _complete(self) -> None:
        """The whole response is written."""
        self.response_complete = True
        protocol = self.protocol
        state = protocol.state
        state.request_done()
        if not self.disconnected:
            state.in_flight -= 1
        self._body_arrived()
        protocol.cycle_finished(self)

    def _fail(self) -> None:
        """Send a 500 if nothing reached the client yet, else close the connection."""
        protocol = self.protocol
        transport = protocol.transport
        if transport.is_closing():
            return
        if self._head_written:
            transport.close()
            return
        conn = protocol.conn
        self.response_started = True
        # Framed by the core if no head was accepted yet; else (a head the core took
        # but that never went out) the same bytes by hand, and the connection closes.
        framed = conn.our_state is State.IDLE
        transport.write(error_response(conn, 500))
        if framed:
            self._complete()
        else:
            transport.close()


class HttpCycle(BaseCycle):
    """The ASGI side of one request on an HttpProtocol."""

    __slots__ = ("_end_delivered", "_expect_100", "_head", "_peer_done", "_waiter", "scope")

    def __init__(self, protocol: HttpProtocol, request: Request) -> None:
        # BaseCycle.__init__, inlined: this runs once per request.
        self.protocol = protocol
        self.request = request
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._more_body = True
        self._head_written = False
        self.response_started = False
        self.response_complete = False
        self.disconnected = False
        state = protocol.state
        state.in_flight += 1
        self.scope = scope_from_template(protocol.scope_template, request, state.app_state)
        self._end_delivered = False
        self._expect_100 = True  # check for Expect: 100-continue at the first receive()
        self._waiter: Any = None
        self._head: tuple[int, Any] | None = None
        self._peer_done = False  # the client half-closed after the whole body

    def feed(self, data: bytes) -> None:
        """A piece of request body arrived; pause reading if too much is unread."""
        BaseCycle.feed(self, data)
        if self._buffered > HIGH_WATER:
            self.protocol.pause_reading()

    def peer_finished(self) -> None:
        """The client half-closed (EOF) after its whole body: it will send nothing more.

        An app waiting in ``receive()`` for something after the body gets
        ``http.disconnect`` (what it waits for can no longer come), but the response it
        sends is still delivered: the client may be reading (RFC 9112 §9.6).
        """
        self._peer_done = True
        self._body_arrived()

    def _body_arrived(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def start(self) -> None:
        """Run the app (eagerly; a Task only if it waits)."""
        if self.disconnected:
            return  # refused or gone before the app was due to start
        protocol = self.protocol
        try:
            coro = protocol.ctx.app(self.scope, self.receive, self.send)
        except Exception as exc:
            self._app_done(exc)
            return
        eager.start(coro, protocol.loop, self._app_done, protocol.state.tasks)

    # -- the ASGI callables ---------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        """ASGI receive: ``http.request`` messages, then ``http.disconnect``."""
        if self._expect_100:
            self._expect_100 = False
            conn = self.protocol.conn
            if (
                not self.response_started
                and not self.disconnected
                and conn.they_are_waiting_for_100_continue
            ):
                self.protocol.transport.write(conn.send(InformationalResponse(100)))
        while True:
            if self.disconnected or self.response_complete:
                return _DISCONNECT.copy()
            if self._end_delivered and self._peer_done:
                return _DISCONNECT.copy()
            if self._chunks or (not self._more_body and not self._end_delivered):
                body = self._take_body()
                more = self._more_body
                if not more:
                    self._end_delivered = True
                elif self.protocol.read_paused:
                    self.protocol.resume_reading()
                return {"type": "http.request", "body": body, "more_body": more}
            # Nothing buffered: wait for body bytes, the response's end, or a disconnect.
            if self.protocol.read_paused and self._more_body:
                self.protocol.resume_reading()
            waiter = self._waiter
            if waiter is None:  # concurrent receivers share one future
                waiter = self._waiter = self.protocol.loop.create_future()
            await waiter

    async def send(self, message: dict[str, Any]) -> None:
        """ASGI send: ``http.response.start`` then ``http.response.body`` messages."""
        protocol = self.protocol
        if protocol.write_paused:
            await protocol.drain()
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")
        kind = message["type"]
        if not self.response_started:
            if kind != "http.response.start":
                raise RuntimeError(f"expected 'http.response.start', got {kind!r}")
            self.response_started = True
            self._expect_100 = False
            headers = message.get("headers", ())
            if type(headers) is not list and type(headers) is not tuple:
                headers = list(headers)  # any iterable: read it once
            self._head = (message["status"], headers)
            return
        if self.response_complete:
            return  # the spec: messages after the end of the response are ignored
        if kind != "http.response.body":
            raise RuntimeError(f"expected 'http.response.body', got {kind!r}")
        body = message.get("body", b"")
        more = message.get("more_body", False)
        conn = protocol.conn
        try:
            head = self._head
            if head is not None:
                self._head = None
                out = self._head_bytes(head[0], head[1], body, more)
            else:
                out = conn.send(Data(body)) if body else b""
                if not more:
                    out += conn.send(END_OF_MESSAGE)
        except LocalProtocolError as exc:
            raise RuntimeError(f"invalid response: {exc}") from None
        if out:
            protocol.transport.write(out)
        if not more:
            # BaseCycle._complete, inlined: once per request.
            self.response_complete = True
            state = protocol.state
            state.request_done()
            state.in_flight -= 1  # not disconnected: checked above
            if self._waiter is not None:
                self._body_arrived()
            protocol.cycle_finished(self)

    # -- the app's end ----------------------------------------------------------------

    def _app_done(self, exc: BaseException | None) -> None:
        """Check how the app ended; answer 500 or close when it left the response unfinished."""
        if self.response_complete:
            if exc is not None and not isinstance(exc, ClientDisconnected):
                logger.error("app error after its response: %s", describe_exception(exc))
            return
        if self.disconnected:
            return  # the client is gone; whatever the app did is moot
        if exc is None:
            reason = (
                "app returned without completing its response"
                if self.response_started
                else "app returned without starting a response"
            )
        else:
            reason = f"app error: {describe_exception(exc)}"
        scope = self.scope
        logger.error("%s %s: %s", scope["method"], scope["path"], reason)
        self._head = None
        self._fail()
