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
checked while it is incomplete), then the body through a framing reader
(``_body``). ``send`` turns our events into bytes through a framing writer chosen
from the head we sent. A server pauses after a complete request until its response
is complete, so pipelined requests are answered strictly in order.

Errors: the peer's violations raise ``RemoteProtocolError`` with the status to answer
(their state becomes ERROR and keep-alive is off: a server may still send that error
response, then must close). Our misuse raises ``LocalProtocolError``.
"""

from __future__ import annotations

import enum
import time
from email.utils import formatdate
from http import HTTPStatus

from servers.protocol import _abnf
from servers.protocol._body import (
    ChunkedReader,
    ChunkedWriter,
    ContentLengthReader,
    ContentLengthWriter,
    EmptyReader,
    NoBodyWriter,
    Reader,
    UntilCloseReader,
    UntilCloseWriter,
    Writer,
)
from servers.protocol._fields import check_field, comma_tokens, parse_fields
from servers.protocol.errors import LocalProtocolError, RemoteProtocolError
from servers.protocol.events import (
    NEED_DATA,
    PAUSED,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Headers,
    InformationalResponse,
    Request,
    Response,
    Signal,
)
from servers.protocol.limits import Limits

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


_STATUS_LINES: dict[int, bytes] = {
    s.value: b"HTTP/1.1 %d %b\r\n" % (s.value, s.phrase.encode("ascii")) for s in HTTPStatus
}
_NO_BODY_STATUS = frozenset({204, 304})
_CHUNKED = b"chunked"


class _DateHeader:
    """The ``Date`` header value, formatted at most once per second."""

    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def get(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = formatdate(now, usegmt=True).encode("ascii")
        return self._value


_DATE = _DateHeader()


class Connection:
    """An HTTP/1.1 connection in the client or server role.

    Args:
        role: ``Role.SERVER`` parses requests and sends responses; ``Role.CLIENT``
            the opposite.
        limits: size limits on what the peer may send.
        server_header: server role: the ``Server`` header added to responses that do
            not carry one (``None``: add none).
    """

    __slots__ = (
        "_buf",
        "_eof",
        "_expect_continue",
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
        self.role = role
        self._limits = limits if limits is not None else Limits()
        self._server_header = server_header
        self._buf = bytearray()
        self._eof = False
        self._search_from = 0
        self._reader: Reader | None = None
        self._writer: Writer | None = None
        self._expect_continue = False
        self._upgrade_pending = False
        self.our_state = State.IDLE
        self.their_state = State.IDLE
        #: Whether the connection may be reused after the current cycle.
        self.keep_alive = True
        #: The method of the current cycle's request (``None`` before one is seen/sent).
        self.request_method: bytes | None = None
        #: The HTTP version of the peer's last message head (``b"1.1"`` or ``b"1.0"``).
        self.peer_http_version = b"1.1"

    # -- receiving ----------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes received from the peer; ``b""`` means the peer closed (EOF)."""
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
            if state is State.SEND_BODY:
                return self._next_body_event()
            if state is State.IDLE:
                if self.role is Role.SERVER:
                    return self._next_request()
                return self._next_response()
        except RemoteProtocolError:
            self.their_state = State.ERROR
            self.keep_alive = False
            self._expect_continue = False
            raise
        if state is State.DONE or state is State.SWITCHED_PROTOCOL:
            return PAUSED
        if state is State.ERROR:
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
            if self._eof:
                event = reader.at_eof()
            else:
                return NEED_DATA
        if type(event) is Data:
            self._expect_continue = False
            return event
        self.their_state = State.DONE
        self._reader = None
        self._expect_continue = False
        if self.our_state is State.DONE:
            self._end_cycle()
        return event

    def _take_head(self) -> bytes | None:
        """Cut a complete head (without its blank line) off the buffer, or check limits."""
        buf = self._buf
        if self._search_from == 0:
            # RFC 9112 §2.2: ignore empty lines before a request-line.
            while buf[:2] == b"\r\n":
                del buf[:2]
        end = buf.find(b"\r\n\r\n", self._search_from)
        if end < 0:
            self._search_from = max(0, len(buf) - 3)
            limits = self._limits
            line_end = buf.find(b"\r\n")
            if (line_end < 0 and len(buf) > limits.max_request_line) or (
                line_end > limits.max_request_line
            ):
                raise RemoteProtocolError("request line too long", 414)
            if len(buf) > limits.max_request_line + limits.max_header_bytes:
                raise RemoteProtocolError("header section too large", 431)
            if self._eof and buf:
                raise RemoteProtocolError("connection closed inside a message head")
            return None
        self._search_from = 0
        head = bytes(buf[:end])
        del buf[: end + 4]
        return head

    def _next_request(self) -> Request | Signal:
        head = self._take_head()
        if head is None:
            if self._eof:
                self.their_state = State.CLOSED
                return ConnectionClosed()
            return NEED_DATA
        lines = head.split(b"\r\n")
        line = lines[0]
        limits = self._limits
        if len(line) > limits.max_request_line:
            raise RemoteProtocolError("request line too long", 414)
        if len(head) > limits.max_request_line + limits.max_header_bytes:
            raise RemoteProtocolError("header section too large", 431)
        match = _abnf.REQUEST_LINE.fullmatch(line)
        if match is None:
            raise RemoteProtocolError(f"invalid request line {line[:60]!r}")
        method, target, major, minor = match.groups()
        if major != b"1":
            raise RemoteProtocolError(f"HTTP/{major.decode()} is not supported", 505)
        version = b"1.0" if minor == b"0" else b"1.1"
        if target[0] != 0x2F and not self._other_target_form(method, target):
            raise RemoteProtocolError(f"invalid request target for {method.decode()}")
        headers, special = parse_fields(lines[1:], limits)
        self.peer_http_version = version
        get = special.get

        hosts = get(b"host")
        if version == b"1.1" and (hosts is None or len(hosts) != 1):
            raise RemoteProtocolError("HTTP/1.1 requests need exactly one Host header")
        if hosts is not None and (len(hosts) > 1 or not _valid_host(hosts[0])):
            raise RemoteProtocolError("invalid Host header")

        self._reader = self._request_reader(version, get(b"transfer-encoding"), get(b"content-length"))

        connection = get(b"connection")
        tokens = comma_tokens(connection) if connection else ()
        if version == b"1.1":
            self.keep_alive = b"close" not in tokens
        else:
            self.keep_alive = b"keep-alive" in tokens and b"close" not in tokens
        self._upgrade_pending = b"upgrade" in tokens and get(b"upgrade") is not None
        expect = get(b"expect")
        self._expect_continue = (
            expect is not None
            and version == b"1.1"
            and expect[-1].lower() == b"100-continue"
            and type(self._reader) is not EmptyReader
        )
        self.request_method = method
        self.their_state = State.SEND_BODY
        return Request(method=method, target=target, headers=headers, http_version=version)

    @staticmethod
    def _other_target_form(method: bytes, target: bytes) -> bool:
        if target == b"*":
            return method == b"OPTIONS"
        if method == b"CONNECT":
            return _abnf.AUTHORITY_FORM.fullmatch(target) is not None
        return _abnf.ABSOLUTE_FORM.fullmatch(target) is not None

    def _request_reader(
        self, version: bytes, te: list[bytes] | None, cl: list[bytes] | None
    ) -> Reader:
        if te is not None:
            if version == b"1.0":
                raise RemoteProtocolError("Transfer-Encoding is not allowed in HTTP/1.0")
            if cl is not None:
                raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
            return self._chunked_reader(te)
        if cl is None:
            return EmptyReader()
        length = _content_length(cl)
        limit = self._limits.max_body_size
        if limit is not None and length > limit:
            raise RemoteProtocolError("request body larger than the limit", 413)
        return ContentLengthReader(length) if length else EmptyReader()

    def _chunked_reader(self, te: list[bytes]) -> ChunkedReader:
        codings = comma_tokens(te)
        if not codings or codings[-1] != _CHUNKED or codings.count(_CHUNKED) > 1:
            raise RemoteProtocolError("chunked must be the final transfer coding, once")
        if len(codings) > 1:
            raise RemoteProtocolError(f"unsupported transfer coding {codings[0]!r}", 501)
        return ChunkedReader(self._limits)

    def _next_response(self) -> Response | InformationalResponse | Signal:
        if self.our_state is State.IDLE and self._buf:
            raise RemoteProtocolError("response data before any request was sent")
        head = self._take_head()
        if head is None:
            if self._eof:
                self.their_state = State.CLOSED
                return ConnectionClosed()
            return NEED_DATA
        lines = head.split(b"\r\n")
        match = _abnf.STATUS_LINE.fullmatch(lines[0])
        if match is None:
            raise RemoteProtocolError(f"invalid status line {lines[0][:60]!r}")
        major, minor, status_bytes, reason = match.groups()
        if major != b"1":
            raise RemoteProtocolError(f"HTTP/{major.decode()} is not supported", 505)
        version = b"1.0" if minor == b"0" else b"1.1"
        status = int(status_bytes)
        headers, special = parse_fields(lines[1:], self._limits)
        reason = reason or b""
        self.peer_http_version = version
        if status < 200:
            if status == 101:
                if not self._upgrade_pending:
                    raise RemoteProtocolError("101 without an Upgrade request")
                self.our_state = self.their_state = State.SWITCHED_PROTOCOL
            return InformationalResponse(status, headers, version, reason)
        self._upgrade_pending = False
        get = special.get
        connection = get(b"connection")
        tokens = comma_tokens(connection) if connection else ()
        if b"close" in tokens or (version == b"1.0" and b"keep-alive" not in tokens):
            self.keep_alive = False
        te = get(b"transfer-encoding")
        cl = get(b"content-length")
        if self.request_method == b"HEAD" or status in _NO_BODY_STATUS:
            self._reader = EmptyReader()
        elif te is not None:
            if cl is not None:
                raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
            self._reader = self._chunked_reader(te)
        elif cl is not None:
            length = _content_length(cl)
            self._reader = ContentLengthReader(length) if length else EmptyReader()
        else:
            self._reader = UntilCloseReader()
            self.keep_alive = False
        self.their_state = State.SEND_BODY
        return Response(status, headers, version, reason)

    # -- sending ------------------------------------------------------------------

    def send(self, event: Event) -> bytes:
        """Serialize one of our events to bytes to write to the peer.

        Raises:
            LocalProtocolError: the event is not allowed now, or is malformed (CR/LF/NUL
                in a header, a body longer or shorter than its Content-Length, …).
        """
        kind = type(event)
        if kind is Data:
            if self.our_state is not State.SEND_BODY:
                raise LocalProtocolError(f"cannot send body data in state {self.our_state.name}")
            assert self._writer is not None
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

    def _send_end(self, event: EndOfMessage) -> bytes:
        if self.our_state is not State.SEND_BODY:
            raise LocalProtocolError(f"cannot end a message in state {self.our_state.name}")
        assert self._writer is not None
        out = self._writer.end(event.headers)
        self._writer = None
        self.our_state = State.DONE
        if self.their_state is State.DONE or self.their_state is State.ERROR:
            self._end_cycle()
        return out

    def _end_cycle(self) -> None:
        if self.keep_alive and self.their_state is State.DONE:
            self.our_state = self.their_state = State.IDLE
            self.request_method = None
            self._upgrade_pending = False
        else:
            self.our_state = State.MUST_CLOSE
            if self.their_state is not State.ERROR:
                self.their_state = State.MUST_CLOSE

    def _send_response(self, event: Response) -> bytes:
        if self.role is not Role.SERVER:
            raise LocalProtocolError("only a server sends responses")
        if self.our_state is not State.IDLE:
            raise LocalProtocolError(f"cannot start a response in state {self.our_state.name}")
        their = self.their_state
        if their is State.IDLE or their is State.MUST_CLOSE or their is State.CLOSED:
            raise LocalProtocolError("no request to respond to")
        status = event.status_code
        if not 200 <= status <= 999:
            raise LocalProtocolError(f"final responses need a status of 200-999, not {status}")
        if self._expect_continue or their is State.ERROR:
            # The client may never send the body it announced: the cycle cannot end cleanly.
            self.keep_alive = False
            self._expect_continue = False
        self._upgrade_pending = False

        length: bytes | None = None
        te: bytes | None = None
        has_date = has_server = False
        out_headers: Headers = []
        for name, value in event.headers:
            check_field(name, value)
            lname = name.lower()
            if lname == b"content-length":
                if length is not None or _abnf.DIGITS.fullmatch(value) is None:
                    raise LocalProtocolError(f"invalid Content-Length {value!r}")
                length = value
            elif lname == b"transfer-encoding":
                te = value
                continue  # written below, as the framing requires
            elif lname == b"connection":
                if b"close" in comma_tokens([value]):
                    self.keep_alive = False
                continue  # written below, once
            elif lname == b"date":
                has_date = True
            elif lname == b"server":
                has_server = True
            out_headers.append((name, value))

        method = self.request_method
        if status in _NO_BODY_STATUS or method == b"HEAD":
            self._writer = NoBodyWriter(discard=method == b"HEAD")
            if status == 204:
                out_headers = [h for h in out_headers if h[0].lower() != b"content-length"]
        elif length is not None:
            if te is not None:
                raise LocalProtocolError("both Content-Length and Transfer-Encoding")
            self._writer = ContentLengthWriter(int(length))
        elif self.peer_http_version == b"1.1" and self.their_state is not State.ERROR:
            if te is not None and comma_tokens([te]) != [_CHUNKED]:
                raise LocalProtocolError(f"unsupported Transfer-Encoding {te!r}")
            self._writer = ChunkedWriter()
            out_headers.append((b"transfer-encoding", _CHUNKED))
        else:
            self._writer = UntilCloseWriter()
            self.keep_alive = False

        if not has_date:
            out_headers.append((b"date", _DATE.get()))
        if not has_server and self._server_header:
            out_headers.append((b"server", self._server_header))
        if not self.keep_alive:
            out_headers.append((b"connection", b"close"))
        elif self.peer_http_version == b"1.0":
            out_headers.append((b"connection", b"keep-alive"))

        self.our_state = State.SEND_BODY
        status_line = _STATUS_LINES.get(status) if not event.reason else None
        if status_line is None:
            status_line = b"HTTP/1.1 %d %b\r\n" % (status, event.reason)
        return b"".join(
            [status_line, *[b"%b: %b\r\n" % pair for pair in out_headers], b"\r\n"]
        )

    def _send_informational(self, event: InformationalResponse) -> bytes:
        if self.role is not Role.SERVER:
            raise LocalProtocolError("only a server sends informational responses")
        if self.our_state is not State.IDLE or self.their_state in (State.IDLE, State.ERROR):
            raise LocalProtocolError("no request awaiting an informational response")
        status = event.status_code
        if not 100 <= status <= 199:
            raise LocalProtocolError(f"informational responses need a 1xx status, not {status}")
        for name, value in event.headers:
            check_field(name, value)
        if status == 101:
            if not self._upgrade_pending:
                raise LocalProtocolError("101 Switching Protocols without an Upgrade request")
            if self.their_state is not State.DONE:
                raise LocalProtocolError("101 before the request was complete")
            self.our_state = self.their_state = State.SWITCHED_PROTOCOL
        elif status == 100:
            self._expect_continue = False
        status_line = _STATUS_LINES.get(status) if not event.reason else None
        if status_line is None:
            status_line = b"HTTP/1.1 %d %b\r\n" % (status, event.reason)
        return b"".join(
            [status_line, *[b"%b: %b\r\n" % pair for pair in event.headers], b"\r\n"]
        )

    def _send_request(self, event: Request) -> bytes:
        if self.role is not Role.CLIENT:
            raise LocalProtocolError("only a client sends requests")
        if self.our_state is not State.IDLE:
            raise LocalProtocolError(f"cannot send a request in state {self.our_state.name}")
        method, target = event.method, event.target
        if _abnf.FIELD_NAME.fullmatch(method) is None:
            raise LocalProtocolError(f"invalid method {method!r}")
        if not target or any(b <= 0x20 or b == 0x7F for b in target):
            raise LocalProtocolError(f"invalid request target {target!r}")
        version = event.http_version
        if version not in (b"1.1", b"1.0"):
            raise LocalProtocolError(f"cannot send HTTP/{version.decode()} requests")
        length: bytes | None = None
        te: bytes | None = None
        hosts = 0
        tokens: list[bytes] = []
        upgrade = False
        for name, value in event.headers:
            check_field(name, value)
            lname = name.lower()
            if lname == b"host":
                hosts += 1
            elif lname == b"content-length":
                if length is not None or _abnf.DIGITS.fullmatch(value) is None:
                    raise LocalProtocolError(f"invalid Content-Length {value!r}")
                length = value
            elif lname == b"transfer-encoding":
                te = value
            elif lname == b"connection":
                tokens += comma_tokens([value])
            elif lname == b"upgrade":
                upgrade = True
        if version == b"1.1" and hosts != 1:
            raise LocalProtocolError("HTTP/1.1 requests need exactly one Host header")
        if te is not None:
            if length is not None or version == b"1.0" or comma_tokens([te]) != [_CHUNKED]:
                raise LocalProtocolError(f"unsupported Transfer-Encoding {te!r}")
            self._writer = ChunkedWriter()
        else:
            self._writer = ContentLengthWriter(int(length) if length is not None else 0)
        if version == b"1.1":
            self.keep_alive = b"close" not in tokens
        else:
            self.keep_alive = b"keep-alive" in tokens
        self._upgrade_pending = upgrade and b"upgrade" in tokens
        self.request_method = method
        self.our_state = State.SEND_BODY
        return b"".join(
            [
                b"%b %b HTTP/%b\r\n" % (method, target, version),
                *[b"%b: %b\r\n" % pair for pair in event.headers],
                b"\r\n",
            ]
        )


def _content_length(values: list[bytes]) -> int:
    """The one valid Content-Length, or RemoteProtocolError (no lists, signs or duplicates)."""
    if len(values) != 1:
        raise RemoteProtocolError("more than one Content-Length")
    value = values[0]
    if _abnf.DIGITS.fullmatch(value) is None:
        raise RemoteProtocolError(f"invalid Content-Length {value[:30]!r}")
    return int(value)


def _valid_host(value: bytes) -> bool:
    """A Host value must not carry whitespace, a path, or userinfo."""
    return _abnf.HOST_FORBIDDEN.search(value) is None
