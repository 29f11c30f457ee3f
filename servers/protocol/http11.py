"""The HTTP/1.1 connection: one object per connection, client or server role, no I/O.

Theory of operation
-------------------
Each side of the connection has a state (``State``): ``our_state`` for what we send,
``their_state`` for what the peer sends. A message goes IDLE → SEND_BODY → DONE. When
both sides are DONE the cycle ends: if the connection can be kept alive both go back to
IDLE and the next (possibly already buffered, pipelined) message is parsed; otherwise
both go to MUST_CLOSE. A 101 answer to an Upgrade request moves both to
SWITCHED_PROTOCOL, after which the bytes left in the buffer (``trailing_data``) belong
to the new protocol.

Bytes from the peer are appended to one buffer (``receive_data``); ``next_event``
parses from it: the head in one piece once its blank line has arrived (with limits
checked while it is incomplete, ``_heads``), then the body through a framing reader
(``_body``). ``send`` turns our events into bytes (``_serialize``) through a framing
writer chosen from the head we sent. A server pauses after a complete request until
its response is complete, so pipelined requests are answered strictly in order.

Errors: the peer's violations raise ``RemoteProtocolError`` with the status to answer
(their state becomes ERROR and keep-alive is off: a server may still send that error
response, then must close). Our misuse raises ``LocalProtocolError`` and changes
nothing, so a server can still answer 500.
"""

from __future__ import annotations

import enum
from typing import Any

from bench.servers.protocol import _accel, _heads, _serialize
from bench.servers.protocol._body import (
    ContentLengthReader,
    EmptyReader,
    Reader,
    UntilCloseReader,
    Writer,
)
from bench.servers.protocol._fields import check_field
from bench.servers.protocol.errors import LocalProtocolError, RemoteProtocolError
from bench.servers.protocol.events import (
    END_OF_MESSAGE,
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    InformationalResponse,
    Request,
    Response,
    Signal,
)
from bench.servers.protocol.limits import Limits

# core: ready


class Role(enum.Enum):
    """Which end of the connection this object plays."""

    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    """The state of one side of the connection."""

    #: Between messages: waiting for the next request (or response) head.
    IDLE = "IDLE"
    #: The head is out; body data (maybe none) and EndOfMessage follow.
    SEND_BODY = "SEND_BODY"
    #: The message is complete; waiting for the other side to finish the cycle.
    DONE = "DONE"
    #: The cycle is over and the connection will not be reused.
    MUST_CLOSE = "MUST_CLOSE"
    #: This side has closed.
    CLOSED = "CLOSED"
    #: A 101 switched the connection to another protocol (e.g. WebSocket).
    SWITCHED_PROTOCOL = "SWITCHED_PROTOCOL"
    #: This side violated the protocol; nothing more is parsed from it.
    ERROR = "ERROR"


_SERVER = Role.SERVER
_IDLE = State.IDLE
_SEND_BODY = State.SEND_BODY
_DONE = State.DONE
_ERROR = State.ERROR
_NO_BODY_STATUS = _heads.NO_BODY_STATUS
_EMPTY = EmptyReader()
#: Their states in which there is no request for a server to respond to.
_NOTHING_TO_ANSWER = frozenset({State.IDLE, State.MUST_CLOSE, State.CLOSED})

#: The hot-path functions in use (``use_accelerator``); the pure-Python ones until then.
_split_lines = _accel.PURE.split_lines
_parse_fields = _accel.PURE.parse_fields
_parse_request_line = _accel.PURE.parse_request_line
_request_head = _accel.PURE.request_head
_whole_response = _accel.PURE.whole_response
_STATUS_LINES = _serialize._STATUS_LINES
_date_tail = _serialize._DATE.tail
_CONNECTION_LINES = _serialize.CONNECTION_LINES


def use_accelerator(fast: bool | None = None) -> bool:
    """Select the C hot path (``True``), the pure-Python reference (``False``), or the
    default (``None``: C when built; ``BENCH_PURE_PROTOCOL`` is applied by ``bench.servers``).

    Applies to every connection, existing and new. Returns whether C is now in use.
    Raises RuntimeError for ``True`` when the C module is not built.
    """
    global _split_lines, _parse_fields, _parse_request_line, _request_head, _whole_response
    impl = _accel.implementation(_accel.available() if fast is None else fast)
    _split_lines = impl.split_lines
    _parse_fields = impl.parse_fields
    _parse_request_line = impl.parse_request_line
    _request_head = impl.request_head
    _whole_response = impl.whole_response
    _serialize.set_fast_fields(impl.response_fields)
    return impl.fast


class Connection:
    """An HTTP/1.1 connection in the client or server role.

    Args:
        role: ``Role.SERVER`` parses requests and sends responses; ``Role.CLIENT``
            the opposite.
        limits: size limits on what the peer may send.
        server_header: server role: the ``Server`` header added to responses that do
            not carry one (``None``: add none).

    Raises:
        LocalProtocolError: ``server_header`` is not a valid header value.
    """

    __slots__ = (
        "_buf",
        "_eof",
        "_expect_continue",
        "_head_limits",
        "_limits",
        "_reader",
        "_search_from",
        "_server_header",
        "_upgrade_pending",
        "_writer",
        "keep_alive",
        "our_state",
        "peer_http_version",
        "request_method",
        "role",
        "their_state",
    )

    def __init__(
        self,
        role: Role,
        limits: Limits | None = None,
        server_header: bytes | None = b"bench",
    ) -> None:
        if server_header is not None:
            check_field(b"server", server_header)
        self.role = role
        self._limits = limits if limits is not None else Limits()
        self._head_limits = _accel.head_limits(self._limits)
        self._server_header = server_header
        self._buf = bytearray()
        self._eof = False
        self._search_from = 0
        self._reader: Reader | None = None
        self._writer: Writer | None = None
        self._expect_continue = False
        self._upgrade_pending = False
        self.our_state = _IDLE
        self.their_state = _IDLE
        #: Whether the connection may be reused after the current cycle.
        self.keep_alive = True
        #: The method of the current cycle's request (``None`` before one is seen/sent).
        self.request_method: bytes | None = None
        #: The HTTP version of the peer's last message head (``b"1.1"`` or ``b"1.0"``).
        self.peer_http_version = b"1.1"

    # -- receiving ----------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes received from the peer; ``b""`` means the peer closed (EOF).

        Raises RuntimeError for data after EOF (a bug in the caller).
        """
        if data:
            if self._eof:
                raise RuntimeError("received data after EOF")
            self._buf += data
        else:
            self._eof = True

    @property
    def they_are_waiting_for_100_continue(self) -> bool:
        """Server role: the client sent ``Expect: 100-continue`` and awaits our go-ahead."""
        return self._expect_continue

    @property
    def server_header(self) -> bytes | None:
        """The ``Server`` value added to our responses (``None``: none)."""
        return self._server_header

    @property
    def upgrade_requested(self) -> bool:
        """The current request asks to switch protocols, until a response to it starts.

        HTTP/1.1, ``Connection: upgrade`` and an ``Upgrade`` field (RFC 9110 §7.8): the
        request a server received, or the one a client sent.
        """
        return self._upgrade_pending

    @property
    def buffered(self) -> int:
        """How many received bytes are not parsed yet (e.g. pipelined requests)."""
        return len(self._buf)

    @property
    def trailing_data(self) -> tuple[bytes, bool]:
        """Bytes received but not parsed (after a protocol switch), and whether EOF was seen."""
        return bytes(self._buf), self._eof

    def next_event(self) -> Event | Signal:
        """Parse and return the next event from the peer.

        Returns an event, or ``NEED_DATA`` (feed more bytes) or ``PAUSED`` (finish our
        side of the cycle first, or the connection switched protocols).

        Raises:
            RemoteProtocolError: the peer violated HTTP/1.1; ``status_code`` is the
                status to answer with. The connection must be closed afterwards.
        """
        state = self.their_state
        try:
            if state is _SEND_BODY:
                return self._next_body_event()
            if state is _IDLE:
                if self.role is _SERVER:
                    return self._next_request()
                return self._next_response()
        except RemoteProtocolError:
            self.their_state = _ERROR
            self.keep_alive = False
            self._expect_continue = False
            raise
        if state is _DONE or state is State.SWITCHED_PROTOCOL:
            return PAUSED
        if state is _ERROR:
            raise RemoteProtocolError("cannot parse after a protocol error")
        # MUST_CLOSE or CLOSED: nothing more will be parsed.
        if self._eof:
            self.their_state = State.CLOSED
            return ConnectionClosed()
        return NEED_DATA

    def _next_body_event(self) -> Data | EndOfMessage | Signal:
        reader = self._reader
        assert reader is not None
        event = reader.read(self._buf)
        if event is None:
            if not self._eof:
                return NEED_DATA
            event = reader.at_eof()
        if type(event) is Data:
            self._expect_continue = False
            return event
        self.their_state = _DONE
        self._reader = None
        self._expect_continue = False
        if self.our_state is _DONE:
            self._end_cycle()
        return event  # type: ignore[return-value]

    def _take_head(self) -> list[bytes] | None:
        """Cut a complete head off the buffer and split it in lines, or check limits."""
        buf = self._buf
        if self._search_from == 0 and buf and buf[0] == 0x0D:
            # RFC 9112 §2.2: ignore empty lines before a request-line.
            while buf[:2] == b"\r\n":
                del buf[:2]
        end = buf.find(b"\r\n\r\n", self._search_from)
        if end < 0:
            if buf:
                _heads.check_partial_head(buf, self._limits, self._search_from)
                if self._eof:
                    raise RemoteProtocolError("connection closed inside a message head")
            self._search_from = max(0, len(buf) - 3)
            return None
        self._search_from = 0
        if end + 4 == len(buf):
            head = bytes(buf[:end])
            buf.clear()
        else:
            head = bytes(buf[:end])
            del buf[: end + 4]
        limits = self._limits
        first = head.find(b"\r\n")
        if first < 0:
            first = len(head)
        if first > limits.max_request_line:
            raise RemoteProtocolError("request line too long", 414)
        if len(head) - first > limits.max_header_bytes:
            raise RemoteProtocolError("header section too large", 431)
        return _split_lines(head)

    def _no_head(self) -> ConnectionClosed | Signal:
        """No complete head is buffered: the peer closed between messages, or more is needed."""
        if self._eof:
            self.their_state = State.CLOSED
            return ConnectionClosed()
        return NEED_DATA

    def _next_request(self) -> Request | ConnectionClosed | Signal:
        if not self._buf:  # after each response on a kept-alive connection: nothing yet
            self._search_from = 0
            return self._no_head()
        limits = self._limits
        # The C path cuts and parses a plain head in one call; None sends it the long
        # way. With the early return above: 68,800 -> 56,500 instructions per server
        # cycle (benchmarks/core_cycle.py under callgrind).
        found = _request_head(self._buf, self._head_limits) if _request_head else None
        if found is not None:
            consumed, method, target, version, headers, special = found
            buf = self._buf
            if consumed == len(buf):
                buf.clear()
            else:
                del buf[:consumed]
            self._search_from = 0
        else:
            lines = self._take_head()
            if lines is None:
                return self._no_head()
            method, target, version = _parse_request_line(lines[0])
            del lines[0]
            headers, special = _parse_fields(lines, limits)
        get = special.get
        _heads.check_hosts(version, get(b"host"))
        te = get(b"transfer-encoding")
        cl = get(b"content-length")
        if te is None and cl is None:
            reader: Reader = _EMPTY  # no body: the common case, decided here
        else:
            reader = _heads.request_reader(version, te, cl, limits)
        connection = get(b"connection")
        if connection is None:
            self.keep_alive = version == b"1.1"
            self._upgrade_pending = False
        else:
            self.keep_alive = _heads.keeps_alive(version, connection)
            self._upgrade_pending = _heads.wants_upgrade(version, connection, get(b"upgrade"))
        expect = get(b"expect")
        self._expect_continue = (
            expect is not None
            and version == b"1.1"
            and expect[-1].lower() == b"100-continue"
            and type(reader) is not EmptyReader
        )
        self._reader = reader
        self.peer_http_version = version
        self.request_method = method
        self.their_state = _SEND_BODY
        return Request(method, target, headers, version)

    def _next_response(self) -> Response | InformationalResponse | ConnectionClosed | Signal:
        if self.our_state is _IDLE and self._buf:
            raise RemoteProtocolError("response data before any request was sent")
        lines = self._take_head()
        if lines is None:
            return self._no_head()
        version, status, reason = _heads.parse_status_line(lines[0])
        del lines[0]
        headers, special = _parse_fields(lines, self._limits)
        self.peer_http_version = version
        if status < 200:
            if status == 101:
                if not self._upgrade_pending:
                    raise RemoteProtocolError("101 without an Upgrade request")
                self.our_state = self.their_state = State.SWITCHED_PROTOCOL
            return InformationalResponse(status, headers, version, reason)
        self._upgrade_pending = False
        get = special.get
        if not _heads.keeps_alive(version, get(b"connection")):
            self.keep_alive = False
        te = get(b"transfer-encoding")
        cl = get(b"content-length")
        if self.request_method == b"HEAD" or status in _NO_BODY_STATUS:
            self._reader = EmptyReader()
        elif te is not None:
            if cl is not None:
                raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
            self._reader = _heads.chunked_reader(te, self._limits)
        elif cl is not None:
            length = _heads.content_length(cl)
            self._reader = ContentLengthReader(length) if length else EmptyReader()
        else:
            self._reader = UntilCloseReader()
            self.keep_alive = False
        self.their_state = _SEND_BODY
        return Response(status, headers, version, reason)

    # -- sending ------------------------------------------------------------------

    def send(self, event: Event) -> bytes:
        """Serialize one of our events to bytes to write to the peer.

        Raises:
            LocalProtocolError: the event is not allowed now, or is malformed (CR/LF/NUL
                in a header, a body longer or shorter than its Content-Length, …). The
                connection is left as it was.
        """
        kind = type(event)
        if kind is Data:
            if self.our_state is not _SEND_BODY:
                raise LocalProtocolError(f"cannot send body data in state {self.our_state.name}")
            return self._writer.data(event.data)  # type: ignore[union-attr]
        if kind is EndOfMessage:
            return self._send_end(event)  # type: ignore[arg-type]
        if kind is Response:
            return self._send_response(event)  # type: ignore[arg-type]
        if kind is Request:
            return self._send_request(event)  # type: ignore[arg-type]
        if kind is InformationalResponse:
            return self._send_informational(event)  # type: ignore[arg-type]
        if kind is ConnectionClosed:
            self.our_state = State.CLOSED
            return b""
        raise LocalProtocolError(f"cannot send {event!r}")

    def send_complete(self, event: Response, body: bytes) -> bytes:
        """Serialize a whole response: ``event``, its ``body`` in one piece, and its end.

        The same bytes, state changes and errors as ``send(event)``, then
        ``send(Data(body))`` if ``body`` is not empty, then ``send(END_OF_MESSAGE)``,
        in one call (one dispatch and no event objects for the body and the end: the
        servers answer most requests this way).

        Raises:
            LocalProtocolError: as those calls would; an error in the body or the end
                comes after the head was accepted, as it would from the second call.
        """
        if type(event) is not Response:
            raise LocalProtocolError(f"send_complete needs a Response, not {event!r}")
        head = self._send_response(event)
        data = self._writer.data(body) if body else b""  # type: ignore[union-attr]
        tail = self._send_end(END_OF_MESSAGE)
        if tail:
            return head + data + tail
        return head + data if data else head

    def send_whole(self, status: int, headers: Any, body: bytes, reason: bytes = b"") -> bytes:
        """Serialize a whole final response whose entire body is ``body``, in one call.

        Exactly ``send_complete(Response(status, whole_headers(...), reason=reason), body)``:
        a Content-Length of ``len(body)`` is added unless ``headers`` carry one or the
        response has no body (to HEAD, 204, 304). Both servers answer most requests so.

        How this works: for the common response (server role, a request read whole and
        kept alive or not, a status with a body, its standard phrase, plain headers
        without Date, Server, Connection or Transfer-Encoding) the C accelerator writes
        the whole response in one call and the states move as the three sends would move
        them; anything else, and the pure path, goes through ``send_complete``. On hello
        this took the eventloop server's cycle from 93,500 to 74,300 instructions
        (benchmarks/shell_cycle.py under callgrind).

        Raises:
            LocalProtocolError: as ``send_complete`` would.
        """
        whole = _whole_response
        # Their state DONE: the request was read whole, so no 100-continue is pending.
        if (
            whole is not None
            and self.our_state is _IDLE
            and self.their_state is _DONE
            and type(status) is int
            and 200 <= status <= 999
            and not reason
            and self.role is _SERVER
        ):
            method = self.request_method
            line = _STATUS_LINES.get(status)
            if (
                line is not None
                and status not in _NO_BODY_STATUS
                and method != b"HEAD"
                and method != b"CONNECT"
            ):
                keep_alive = self.keep_alive
                connection = _CONNECTION_LINES[keep_alive, self.peer_http_version == b"1.0"]
                out = whole(line, headers, body, _date_tail(self._server_header, connection))
                if out is not None:
                    # The states as _send_response, then _send_end and _end_cycle, leave them.
                    self._upgrade_pending = False
                    self._writer = None
                    if keep_alive:
                        self.our_state = self.their_state = _IDLE
                        self.request_method = None
                    else:
                        self.our_state = self.their_state = State.MUST_CLOSE
                    return out
        headers = _serialize.whole_headers(status, self.request_method, headers, len(body))
        return self.send_complete(Response(status, headers, reason=reason), body)

    def send_passthrough(self, n: int) -> tuple[bytes, bytes]:
        """Account for ``n`` body bytes the caller sends itself (e.g. with ``sendfile``).

        Returns the framing to write just before and just after those bytes (chunk
        size and CRLF for a chunked body, nothing for a Content-Length). The body is
        then checked as if the bytes had gone through ``send(Data(...))``: more than
        the Content-Length, or any body on a response that has none (HEAD, 204, 304),
        raises LocalProtocolError and changes nothing.
        """
        if self.our_state is not _SEND_BODY:
            raise LocalProtocolError(f"cannot send body data in state {self.our_state.name}")
        if type(n) is not int or n < 0:
            raise LocalProtocolError(f"invalid passthrough length {n!r}")
        return self._writer.passthrough(n)  # type: ignore[union-attr]

    def _send_end(self, event: EndOfMessage) -> bytes:
        if self.our_state is not _SEND_BODY:
            raise LocalProtocolError(f"cannot end a message in state {self.our_state.name}")
        out = self._writer.end(event.headers)  # type: ignore[union-attr]
        self._writer = None
        self.our_state = _DONE
        if self.their_state is _DONE or self.their_state is _ERROR:
            self._end_cycle()
        return out

    def _end_cycle(self) -> None:
        if self.keep_alive and self.their_state is _DONE:
            self.our_state = self.their_state = _IDLE
            self.request_method = None
            self._upgrade_pending = False
        else:
            self.our_state = State.MUST_CLOSE
            if self.their_state is not _ERROR:
                self.their_state = State.MUST_CLOSE

    def _send_response(self, event: Response) -> bytes:
        if self.role is not Role.SERVER:
            raise LocalProtocolError("only a server sends responses")
        if self.our_state is not _IDLE:
            raise LocalProtocolError(f"cannot start a response in state {self.our_state.name}")
        their = self.their_state
        if their in _NOTHING_TO_ANSWER:
            raise LocalProtocolError("no request to respond to")
        # After 100-continue was asked for, the client may never send the body it
        # announced, and after an error the rest of the input is unknown: the cycle
        # cannot end cleanly, so the connection closes.
        error = their is _ERROR
        head, writer, keep_alive = _serialize.response_head(
            event,
            self.request_method,
            self.peer_http_version,
            self.keep_alive and not (self._expect_continue or error),
            self.peer_http_version == b"1.1" and not error,
            self._server_header,
        )
        self.keep_alive = keep_alive
        self._expect_continue = False
        self._upgrade_pending = False
        self._writer = writer
        self.our_state = _SEND_BODY
        return head

    def _send_informational(self, event: InformationalResponse) -> bytes:
        if self.role is not Role.SERVER:
            raise LocalProtocolError("only a server sends informational responses")
        if self.our_state is not _IDLE or self.their_state in (_IDLE, _ERROR):
            raise LocalProtocolError("no request awaiting an informational response")
        if self.peer_http_version == b"1.0":
            raise LocalProtocolError("no 1xx response may be sent to an HTTP/1.0 client")
        head = _serialize.informational_head(event)
        if event.status_code == 101:
            if not self._upgrade_pending:
                raise LocalProtocolError("101 Switching Protocols without an Upgrade request")
            if self.their_state is not _DONE:
                raise LocalProtocolError("101 before the request was complete")
            self.our_state = self.their_state = State.SWITCHED_PROTOCOL
        elif event.status_code == 100:
            self._expect_continue = False
        return head

    def _send_request(self, event: Request) -> bytes:
        if self.role is not Role.CLIENT:
            raise LocalProtocolError("only a client sends requests")
        if self.our_state is not _IDLE:
            raise LocalProtocolError(f"cannot send a request in state {self.our_state.name}")
        head, writer, keep_alive, upgrade = _serialize.request_head(event)
        self._writer = writer
        self.keep_alive = keep_alive
        self._upgrade_pending = upgrade
        self.request_method = event.method
        self.our_state = _SEND_BODY
        return head


use_accelerator()
