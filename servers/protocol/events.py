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


# Fast constructors. The ``__init__`` a frozen dataclass generates sets each field with
# ``object.__setattr__(self, "name", value)``; calling the slots' own descriptors does
# the same store about three times faster, and these events are made on every request.
# Same signatures, defaults (a fresh list for omitted headers) and results.
_NO_HEADERS: Headers = []  # sentinel (identity only): "headers omitted"


def _make_request_init() -> None:
    set_method = Request.method.__set__  # type: ignore[attr-defined]
    set_target = Request.target.__set__  # type: ignore[attr-defined]
    set_headers = Request.headers.__set__  # type: ignore[attr-defined]
    set_version = Request.http_version.__set__  # type: ignore[attr-defined]

    def __init__(
        self: Request,
        method: bytes,
        target: bytes,
        headers: Headers = _NO_HEADERS,
        http_version: bytes = b"1.1",
    ) -> None:
        set_method(self, method)
        set_target(self, target)
        set_headers(self, [] if headers is _NO_HEADERS else headers)
        set_version(self, http_version)

    __init__.__qualname__ = "Request.__init__"
    Request.__init__ = __init__  # type: ignore[method-assign]


def _make_response_init(cls: type[Response | InformationalResponse]) -> None:
    set_status = cls.status_code.__set__  # type: ignore[attr-defined]
    set_headers = cls.headers.__set__  # type: ignore[attr-defined]
    set_version = cls.http_version.__set__  # type: ignore[attr-defined]
    set_reason = cls.reason.__set__  # type: ignore[attr-defined]

    def __init__(
        self: Response | InformationalResponse,
        status_code: int,
        headers: Headers = _NO_HEADERS,
        http_version: bytes = b"1.1",
        reason: bytes = b"",
    ) -> None:
        set_status(self, status_code)
        set_headers(self, [] if headers is _NO_HEADERS else headers)
        set_version(self, http_version)
        set_reason(self, reason)

    __init__.__qualname__ = f"{cls.__name__}.__init__"
    cls.__init__ = __init__  # type: ignore[method-assign]


def _make_body_inits() -> None:
    set_data = Data.data.__set__  # type: ignore[attr-defined]
    set_trailers = EndOfMessage.headers.__set__  # type: ignore[attr-defined]

    def data_init(self: Data, data: bytes) -> None:
        set_data(self, data)

    def end_init(self: EndOfMessage, headers: Headers = _NO_HEADERS) -> None:
        set_trailers(self, [] if headers is _NO_HEADERS else headers)

    data_init.__name__ = end_init.__name__ = "__init__"
    data_init.__qualname__ = "Data.__init__"
    end_init.__qualname__ = "EndOfMessage.__init__"
    Data.__init__ = data_init  # type: ignore[method-assign]
    EndOfMessage.__init__ = end_init  # type: ignore[method-assign]


_make_request_init()
_make_response_init(Response)
_make_response_init(InformationalResponse)
_make_body_inits()

#: A shared EndOfMessage with no trailers (events are immutable, so one instance serves).
END_OF_MESSAGE = EndOfMessage()

Event = Request | InformationalResponse | Response | Data | EndOfMessage | ConnectionClosed
