"""The sans-IO protocol core: HTTP/1.1 (server and client roles) and WebSocket.

Nothing here touches a socket, an event loop or a process: bytes go in, events come
out; events go in, bytes come out. Both servers and the load engine's client use it.

Public names::

    from bench.servers.protocol import (
        Connection, Role, Limits,
        Request, InformationalResponse, Response, Data, EndOfMessage, ConnectionClosed,
        NEED_DATA, PAUSED, NO_BODY_STATUS,
        ProtocolError, LocalProtocolError, RemoteProtocolError,
        error_response,  # the canned error response (servers.protocol.canned)
        whole_headers,  # a whole body's framing: Content-Length added when due
    )
"""

from bench.servers.protocol._heads import NO_BODY_STATUS
from bench.servers.protocol._serialize import whole_headers
from bench.servers.protocol.canned import error_response
from bench.servers.protocol.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
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
from bench.servers.protocol.http11 import Connection, Role, State
from bench.servers.protocol.limits import Limits

__all__ = [
    "END_OF_MESSAGE",
    "NEED_DATA",
    "NO_BODY_STATUS",
    "PAUSED",
    "Connection",
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Event",
    "InformationalResponse",
    "Limits",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "Request",
    "Response",
    "Role",
    "Signal",
    "State",
    "error_response",
    "whole_headers",
]
