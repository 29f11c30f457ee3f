"""Events of the HTTP/1.1 core: what ``Connection.next_event`` returns and ``send`` accepts.

Header lists are lists of ``(name, value)`` byte pairs in wire order, duplicates kept.
Headers parsed from the peer have lower-cased names (as ASGI wants them); headers we
send are written as given. Events are immutable: do not mutate their header lists.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

Headers = list[tuple[bytes, bytes]]


class Signal(enum.Enum):
    """What ``next_event`` returns when it has no event to give."""

    #: More bytes from the peer are needed to make progress.
    NEED_DATA = "NEED_DATA"
    #: The peer's current message is complete, and ours is not: finish the response
    #: (server) or wait for the response (client) before the next message is parsed.
    PAUSED = "PAUSED"


NEED_DATA = Signal.NEED_DATA
PAUSED = Signal.PAUSED


@dataclass(frozen=True, slots=True)
class Request:
    """A request head. ``target`` is the raw request-target (path and query, or absolute-form)."""

    method: bytes
    target: bytes
    headers: Headers = field(default_factory=list)
    http_version: bytes = b"1.1"


@dataclass(frozen=True, slots=True)
class InformationalResponse:
    """A 1xx response head (100 Continue, 101 Switching Protocols)."""

    status_code: int
    headers: Headers = field(default_factory=list)
    http_version: bytes = b"1.1"
    reason: bytes = b""


@dataclass(frozen=True, slots=True)
class Response:
    """A final (2xx-5xx) response head."""

    status_code: int
    headers: Headers = field(default_factory=list)
    http_version: bytes = b"1.1"
    reason: bytes = b""


@dataclass(frozen=True, slots=True)
class Data:
    """A piece of a message body (already de-chunked)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The end of a message body; ``headers`` holds the trailer fields of a chunked body."""

    headers: Headers = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its side (received), or we close ours (sent)."""


#: A shared EndOfMessage with no trailers (events are immutable, so one instance serves).
END_OF_MESSAGE = EndOfMessage()

Event = Request | InformationalResponse | Response | Data | EndOfMessage | ConnectionClosed
