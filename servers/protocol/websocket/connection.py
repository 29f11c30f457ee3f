"""The WebSocket connection after the opening handshake: a sans-IO state machine.

Theory of operation
-------------------
``WSConnection`` plays the server or the client role (servers receive masked frames
and send unmasked ones; clients the opposite). Bytes from the peer go in through
``receive_data`` (``b""`` is end of stream); ``next_event``/``events`` parse frames,
hand data frames to the ``MessageAssembler`` and return whole messages, pings, pongs
and finally one ``CloseConnection``. ``send`` turns our events into bytes.

Some bytes are produced without being asked: the Pong that answers a Ping, the Close
that answers a Close, the Close that fails the connection on bad input. They wait in
an outgoing buffer; ``data_to_send`` takes them, and ``send`` puts them in front of
whatever it serializes, so the order on the wire is always right.

States (``ConnectionState``) and what moves between them::

    OPEN ──send Close──▶ LOCAL_CLOSING ──receive Close──▶ CLOSED
    OPEN ──receive Close (answered at once)────────────▶ CLOSED
    any ──bad input (Close with 1002/1007/1009 queued) / end of stream──▶ CLOSED

After CLOSED a server closes the TCP connection; a client waits for the server to.
Received bytes after CLOSED are ignored.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator

from bench.servers.protocol.errors import LocalProtocolError
from bench.servers.protocol.http11 import Role
from bench.servers.protocol.websocket.closecodes import (
    MAX_CONTROL_PAYLOAD,
    CloseCode,
    build_close_payload,
    parse_close_payload,
    truncate_reason,
)
from bench.servers.protocol.websocket.deflate import PerMessageDeflate
from bench.servers.protocol.websocket.errors import WebSocketProtocolError
from bench.servers.protocol.websocket.events import (
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    TextMessage,
    WSEvent,
)
from bench.servers.protocol.websocket.frames import (
    Frame,
    FrameParser,
    Opcode,
    new_mask,
    serialize_frame,
)
from bench.servers.protocol.websocket.messages import MessageAssembler

#: Default limit on a received message, as uvicorn's ``--ws-max-size``.
DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024


class ConnectionState(enum.Enum):
    """Where the connection is in its life."""

    #: Messages flow both ways.
    OPEN = "OPEN"
    #: We sent a Close and wait for the peer's; we may not send anything more, but the
    #: peer's messages are still delivered.
    LOCAL_CLOSING = "LOCAL_CLOSING"
    #: The closing handshake is complete, the connection failed, or the stream ended.
    CLOSED = "CLOSED"


class WSConnection:
    """One WebSocket connection in the server or client role, no I/O.

    Args:
        role: ``Role.SERVER`` or ``Role.CLIENT`` (from the HTTP/1.1 core).
        max_message_size: largest received message in bytes, after decompression
            (None: no limit); larger ones fail the connection with 1009.
        deflate: the permessage-deflate codec when the handshake negotiated it.
        subprotocol: the negotiated subprotocol, kept for the caller.
        mask_key: client role: returns the 4-byte key of each frame we send.
        auto_pong: answer received Pings with a Pong by ourselves.
    """

    __slots__ = (
        "_assembler",
        "_eof",
        "_final",
        "_mask",
        "_out",
        "_parser",
        "_sending",
        "auto_pong",
        "close_code",
        "close_reason",
        "deflate",
        "failure",
        "role",
        "state",
        "subprotocol",
    )

    def __init__(
        self,
        role: Role,
        *,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        deflate: PerMessageDeflate | None = None,
        subprotocol: str | None = None,
        mask_key: Callable[[], bytes] = new_mask,
        auto_pong: bool = True,
    ) -> None:
        self.role = role
        self.deflate = deflate
        self.subprotocol = subprotocol
        self.auto_pong = auto_pong
        self.state = ConnectionState.OPEN
        #: Code and reason of how the connection ended (None while it has not).
        self.close_code: int | None = None
        self.close_reason = ""
        #: The peer's protocol violation that failed the connection, if any.
        self.failure: WebSocketProtocolError | None = None
        is_server = role is Role.SERVER
        self._parser = FrameParser(
            expect_masked=is_server, allow_rsv1=deflate is not None, max_payload=max_message_size
        )
        self._assembler = MessageAssembler(max_message_size, deflate)
        self._mask: Callable[[], bytes] | None = None if is_server else mask_key
        self._out = bytearray()
        self._eof = False
        self._final: CloseConnection | None = None
        self._sending: type[TextMessage] | type[BytesMessage] | None = None

    # -- receiving ----------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the peer; ``b""`` means the stream ended."""
        if not data:
            self._eof = True
        elif self.state is not ConnectionState.CLOSED:
            self._parser.feed(data)

    def events(self) -> Iterator[WSEvent]:
        """Yield every event the received bytes complete (see ``next_event``)."""
        while (event := self.next_event()) is not None:
            yield event

    def next_event(self) -> WSEvent | None:
        """Return the next event, or None when more bytes are needed (or nothing is left).

        Returns TextMessage / BytesMessage (whole), Ping, Pong, and once, when the
        connection ends, CloseConnection. Protocol violations do not raise: they
        queue a Close with the right code and end the connection (see ``failure``).
        """
        if self.state is ConnectionState.CLOSED:
            final, self._final = self._final, None
            return final
        try:
            while (frame := self._parser.next_frame()) is not None:
                if frame.opcode < Opcode.CLOSE:
                    message = self._assembler.feed(frame)
                    if message is not None:
                        return message
                else:
                    return self._control(frame)
        except WebSocketProtocolError as exc:
            return self._fail(exc)
        if self._eof:
            return self._end(CloseCode.ABNORMAL_CLOSURE, "")
        return None

    def _control(self, frame: Frame) -> WSEvent:
        if frame.rsv1:
            raise WebSocketProtocolError("RSV1 set on a control frame")
        if frame.opcode is Opcode.PING:
            if self.auto_pong and self.state is ConnectionState.OPEN:
                self._out += self._frame(Opcode.PONG, frame.payload)
            return Ping(frame.payload)
        if frame.opcode is Opcode.PONG:
            return Pong(frame.payload)
        code, reason = parse_close_payload(frame.payload)
        if self.state is ConnectionState.OPEN:
            echo = None if code == CloseCode.NO_STATUS_RCVD else code
            self._out += self._frame(Opcode.CLOSE, build_close_payload(echo))
        return self._end(code, reason)

    def _fail(self, exc: WebSocketProtocolError) -> CloseConnection:
        self.failure = exc
        reason = truncate_reason(str(exc))
        if self.state is ConnectionState.OPEN:
            self._out += self._frame(Opcode.CLOSE, build_close_payload(exc.close_code, reason))
        return self._end(exc.close_code, reason)

    def _end(self, code: int, reason: str) -> CloseConnection:
        self.state = ConnectionState.CLOSED
        self.close_code = code
        self.close_reason = reason
        return CloseConnection(code, reason)

    # -- sending ------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Take the bytes queued by the connection itself (pongs, close answers)."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def send(self, event: WSEvent) -> bytes:
        """Serialize ``event`` (after any queued bytes) and return what to write.

        Raises LocalProtocolError when the event is not allowed now (anything after
        our Close, a control payload over 125 bytes, a bad close code, a fragment of
        the other message type while one is being sent).
        """
        if self.state is not ConnectionState.OPEN:
            raise LocalProtocolError(f"cannot send {type(event).__name__} in state {self.state}")
        kind = type(event)
        if kind is TextMessage:
            frame = self._message(event.data.encode("utf-8"), event.fin, TextMessage)  # type: ignore[union-attr]
        elif kind is BytesMessage:
            frame = self._message(bytes(event.data), event.fin, BytesMessage)  # type: ignore[union-attr]
        elif kind is Ping or kind is Pong:
            payload = bytes(event.payload)  # type: ignore[union-attr]
            if len(payload) > MAX_CONTROL_PAYLOAD:
                raise LocalProtocolError("control frame payload over 125 bytes")
            frame = self._frame(Opcode.PING if kind is Ping else Opcode.PONG, payload)
        elif kind is CloseConnection:
            payload = build_close_payload(event.code, event.reason)  # type: ignore[union-attr]
            frame = self._frame(Opcode.CLOSE, payload)
            self.state = ConnectionState.LOCAL_CLOSING
        else:
            raise LocalProtocolError(f"cannot send {event!r}")
        if self._out:
            frame = bytes(self._out) + frame
            self._out.clear()
        return frame

    def _message(
        self, payload: bytes, fin: bool, kind: type[TextMessage] | type[BytesMessage]
    ) -> bytes:
        sending = self._sending
        if sending is None:
            opcode = Opcode.TEXT if kind is TextMessage else Opcode.BINARY
        elif sending is kind:
            opcode = Opcode.CONTINUATION
        else:
            raise LocalProtocolError("a fragmented message is being sent: finish it first")
        self._sending = None if fin else kind
        rsv1 = False
        if self.deflate is not None:
            payload = self.deflate.compress(payload, fin)
            rsv1 = opcode is not Opcode.CONTINUATION
        mask = self._mask() if self._mask is not None else None
        return serialize_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=mask)

    def _frame(self, opcode: Opcode, payload: bytes) -> bytes:
        mask = self._mask() if self._mask is not None else None
        return serialize_frame(opcode, payload, mask=mask)
