"""Test helpers: wire our WebSocket core to itself or to the `websockets` sans-IO protocol.

Every helper moves bytes in memory; nothing here opens a socket. Peers from the
`websockets` library are the independent implementation we check ourselves against:
their ``ClientProtocol`` talks to our server handshake and connection, their
``ServerProtocol`` to our client side.
"""

from __future__ import annotations

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame as TheirFrame
from websockets.frames import Opcode as TheirOpcode
from websockets.protocol import Protocol
from websockets.protocol import State as TheirState
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from bench.servers.protocol import END_OF_MESSAGE, Connection, Role
from bench.servers.protocol.events import InformationalResponse, Request
from bench.servers.protocol.websocket import (
    ClientHandshake,
    DeflateConfig,
    WSConnection,
    accept,
    validate_request,
)
from bench.servers.protocol.websocket.connection import ConnectionState
from bench.servers.protocol.websocket.events import BytesMessage, TextMessage, WSEvent
from bench.servers.protocol.websocket.frames import serialize_frame

__all__ = [
    "ClientPerMessageDeflateFactory",
    "Harness",
    "ServerPerMessageDeflateFactory",
    "TheirFrame",
    "TheirOpcode",
    "TheirState",
    "drain",
    "our_pair",
    "their_bytes",
    "with_their_client",
    "with_their_server",
]


def their_bytes(peer: Protocol) -> bytes:
    """Everything the websockets peer wants to write (the EOF marker dropped)."""
    return b"".join(peer.data_to_send())


def drain(conn: WSConnection, data: bytes, *, chunk: int | None = None) -> list[WSEvent]:
    """Feed ``data`` to ``conn`` (in pieces of ``chunk`` bytes) and return all events."""
    events: list[WSEvent] = []
    if chunk is None:
        conn.receive_data(data)
        events.extend(conn.events())
        return events
    for start in range(0, len(data), chunk):
        conn.receive_data(data[start : start + chunk])
        events.extend(conn.events())
    return events


def our_pair(
    *,
    client_deflate: DeflateConfig | None = None,
    server_deflate: DeflateConfig | None = None,
    subprotocols: tuple[str, ...] = (),
    choose: str | None = None,
    max_message_size: int | None = 1 << 20,
) -> tuple[WSConnection, WSConnection]:
    """Our client and our server, handshaken through two HTTP/1.1 core connections."""
    http_client = Connection(Role.CLIENT)
    http_server = Connection(Role.SERVER)
    hs = ClientHandshake.start(
        "example.com", "/chat", subprotocols=subprotocols, deflate=client_deflate
    )
    http_server.receive_data(http_client.send(hs.request) + http_client.send(END_OF_MESSAGE))
    request = http_server.next_event()
    assert isinstance(request, Request)
    assert http_server.next_event() == END_OF_MESSAGE
    accepted = accept(validate_request(request), subprotocol=choose, deflate=server_deflate)
    assert accepted.response is not None
    http_client.receive_data(http_server.send(accepted.response))
    response = http_client.next_event()
    assert isinstance(response, InformationalResponse)
    client_side = hs.validate(response)
    return (
        client_side.connection(Role.CLIENT, max_message_size=max_message_size),
        accepted.connection(Role.SERVER, max_message_size=max_message_size),
    )


def with_their_client(
    *,
    deflate: ClientPerMessageDeflateFactory | None = None,
    server_deflate: DeflateConfig | None = None,
    subprotocols: list[str] | None = None,
    choose: str | None = None,
    their_max_size: int | None = None,
    max_message_size: int | None = 1 << 20,
) -> tuple[ClientProtocol, WSConnection]:
    """A websockets ClientProtocol handshaken with our server (HTTP core + handshake)."""
    client = ClientProtocol(
        parse_uri("ws://example.com/chat"),
        extensions=[deflate] if deflate is not None else None,
        subprotocols=subprotocols,  # type: ignore[arg-type]
        max_size=their_max_size,
    )
    client.send_request(client.connect())
    http = Connection(Role.SERVER)
    http.receive_data(their_bytes(client))
    request = http.next_event()
    assert isinstance(request, Request), request
    assert http.next_event() == END_OF_MESSAGE
    accepted = accept(validate_request(request), subprotocol=choose, deflate=server_deflate)
    assert accepted.response is not None
    client.receive_data(http.send(accepted.response))
    [response] = client.events_received()
    assert client.handshake_exc is None, client.handshake_exc
    assert response.status_code == 101
    return client, accepted.connection(Role.SERVER, max_message_size=max_message_size)


def with_their_server(
    *,
    deflate: DeflateConfig | None = None,
    server_deflate: ServerPerMessageDeflateFactory | None = None,
    subprotocols: tuple[str, ...] = (),
    their_subprotocols: list[str] | None = None,
    their_max_size: int | None = None,
    max_message_size: int | None = 1 << 20,
) -> tuple[WSConnection, ServerProtocol]:
    """Our client (HTTP core + handshake) connected to a websockets ServerProtocol."""
    server = ServerProtocol(
        extensions=[server_deflate] if server_deflate is not None else None,
        subprotocols=their_subprotocols,  # type: ignore[arg-type]
        max_size=their_max_size,
    )
    http = Connection(Role.CLIENT)
    hs = ClientHandshake.start("example.com", "/chat", subprotocols=subprotocols, deflate=deflate)
    server.receive_data(http.send(hs.request) + http.send(END_OF_MESSAGE))
    [their_request] = server.events_received()
    server.send_response(server.accept(their_request))
    http.receive_data(their_bytes(server))
    response = http.next_event()
    assert isinstance(response, InformationalResponse), response
    assert server.state is TheirState.OPEN
    return hs.validate(response).connection(Role.CLIENT, max_message_size=max_message_size), server


class Harness:
    """Our connection (echoing every message, like Autobahn's test server) and a websockets peer.

    ``our_role`` says which side we play. ``peer_frame`` builds raw frames as the peer
    would send them (masked when the peer is the client), for the broken input the
    websockets library refuses to produce. ``deliver`` feeds bytes to our side and
    collects what we write back; ``their_events`` hands that to the websockets peer.
    """

    def __init__(
        self,
        our_role: Role,
        *,
        our_deflate: DeflateConfig | None = None,
        their_deflate: ClientPerMessageDeflateFactory
        | ServerPerMessageDeflateFactory
        | None = None,
        max_message_size: int | None = 1 << 20,
    ) -> None:
        self.our_role = our_role
        self.ours: WSConnection
        self.theirs: Protocol
        if our_role is Role.SERVER:
            self.ours_client = False
            client, self.ours = with_their_client(
                deflate=their_deflate,  # type: ignore[arg-type]
                server_deflate=our_deflate,
                max_message_size=max_message_size,
            )
            self.theirs = client
        else:
            self.ours, server = with_their_server(
                deflate=our_deflate,
                server_deflate=their_deflate,  # type: ignore[arg-type]
                max_message_size=max_message_size,
            )
            self.theirs = server
        self.sent = bytearray()
        self.events: list[WSEvent] = []

    def peer_frame(self, opcode: int, payload: bytes = b"", **bits: bool) -> bytes:
        """A raw frame from the peer's side of the connection."""
        mask = b"\x37\xfa\x21\x3d" if self.our_role is Role.SERVER else None
        return serialize_frame(opcode, payload, mask=mask, **bits)

    def from_peer(self) -> bytes:
        """What the websockets peer wrote after its last ``send_*`` calls."""
        return their_bytes(self.theirs)

    def deliver(self, data: bytes, *, chunk: int | None = None) -> list[WSEvent]:
        """Feed ``data`` to our side (echoing messages); return the new events."""
        new: list[WSEvent] = []
        step = chunk or max(1, len(data))
        for start in range(0, max(1, len(data)), step):
            self.ours.receive_data(data[start : start + step])
            for event in self.ours.events():
                new.append(event)
                echo = type(event) in (TextMessage, BytesMessage)
                if echo and self.ours.state is ConnectionState.OPEN:
                    self.sent += self.ours.send(event)
            self.sent += self.ours.data_to_send()
        self.events.extend(new)
        return new

    def their_events(self) -> list[TheirFrame]:
        """Hand everything we wrote to the websockets peer; return the frames it read."""
        data = bytes(self.sent)
        self.sent.clear()
        self.theirs.receive_data(data)
        return self.theirs.events_received()

    @property
    def their_close_code(self) -> int | None:
        """The close code the websockets peer received from us."""
        close = self.theirs.close_rcvd
        return None if close is None else int(close.code)
