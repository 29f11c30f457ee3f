"""Events of a WebSocket connection: what ``WSConnection.events`` yields and ``send`` takes.

Received data messages are always whole (fragments are reassembled, decompressed and,
for text, decoded). To *send* a message in fragments, send events with ``fin=False``:
the first opens the message, the following ones (same type) continue it, and the one
with ``fin=True`` ends it. Control frames (Ping, Pong, Close) may be sent between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.servers.protocol.websocket.closecodes import CloseCode


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A text message (or, when sending with ``fin=False``, one fragment of it)."""

    data: str
    fin: bool = True


@dataclass(frozen=True, slots=True)
class BytesMessage:
    """A binary message (or, when sending with ``fin=False``, one fragment of it)."""

    data: bytes
    fin: bool = True


@dataclass(frozen=True, slots=True)
class Ping:
    """A Ping; the connection answers received pings with a Pong by itself."""

    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class Pong:
    """A Pong (an answer to a Ping, or an unsolicited heartbeat)."""

    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class CloseConnection:
    """The connection is closing (sent: our Close frame; received: why it ended).

    Received ``code`` is the peer's close code, 1005 for a Close without a code, 1006
    when the transport ended without a Close frame, or the code we failed the
    connection with (1002, 1007, 1009) when the peer broke the protocol.
    """

    code: int = CloseCode.NORMAL_CLOSURE
    reason: str = ""


Message = TextMessage | BytesMessage
WSEvent = TextMessage | BytesMessage | Ping | Pong | CloseConnection
