"""WebSocket (RFC 6455, with permessage-deflate from RFC 7692) on the sans-IO HTTP/1.1 core.

Modules, one concern each:

* ``handshake`` — the opening handshake, server and client, over HTTP core events.
* ``connection`` — ``WSConnection``: the state machine after the handshake.
* ``messages`` — reassembly of fragments, decompression, UTF-8 validation, size limit.
* ``frames`` — the frame codec and masking.
* ``deflate`` — permessage-deflate negotiation and the zlib codec.
* ``closecodes`` — close codes and the Close payload.
* ``headers`` — the handshake's header-value grammar.
* ``events`` / ``errors`` — what the connection yields and raises.

A server, in three steps (the transport around it only moves bytes)::

    offer = validate_request(request)               # HandshakeError -> rejection(exc)
    accepted = accept(offer, deflate=DeflateConfig())
    write(http_conn.send(accepted.response))
    ws = accepted.connection(Role.SERVER)
    ws.receive_data(http_conn.trailing_data[0])
    ...
    ws.receive_data(read()); for event in ws.events(): ...; write(ws.data_to_send())
"""

from bench.servers.protocol.websocket.closecodes import CloseCode, is_wire_code
from bench.servers.protocol.websocket.connection import (
    DEFAULT_MAX_MESSAGE_SIZE,
    ConnectionState,
    WSConnection,
)
from bench.servers.protocol.websocket.deflate import DeflateConfig, DeflateParams, PerMessageDeflate
from bench.servers.protocol.websocket.errors import (
    HandshakeError,
    InvalidPayload,
    MessageTooBig,
    WebSocketProtocolError,
)
from bench.servers.protocol.websocket.events import (
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    Pong,
    TextMessage,
    WSEvent,
)
from bench.servers.protocol.websocket.handshake import (
    Accepted,
    ClientHandshake,
    Offer,
    accept,
    accept_token,
    is_websocket_upgrade,
    rejection,
    validate_request,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "Accepted",
    "BytesMessage",
    "ClientHandshake",
    "CloseCode",
    "CloseConnection",
    "ConnectionState",
    "DeflateConfig",
    "DeflateParams",
    "HandshakeError",
    "InvalidPayload",
    "Message",
    "MessageTooBig",
    "Offer",
    "PerMessageDeflate",
    "Ping",
    "Pong",
    "TextMessage",
    "WSConnection",
    "WSEvent",
    "WebSocketProtocolError",
    "accept",
    "accept_token",
    "is_websocket_upgrade",
    "is_wire_code",
    "rejection",
    "validate_request",
]
