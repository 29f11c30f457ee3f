"""The opening handshake over the HTTP/1.1 core, against ourselves and against websockets."""

from __future__ import annotations

import pytest
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.uri import parse_uri
from ws_testkit import drain, our_pair, their_bytes, with_their_client, with_their_server

from bench.servers.protocol import END_OF_MESSAGE, Connection, Role
from bench.servers.protocol.errors import LocalProtocolError
from bench.servers.protocol.events import Data, InformationalResponse, Request, Response
from bench.servers.protocol.websocket import (
    ClientHandshake,
    DeflateConfig,
    HandshakeError,
    TextMessage,
    accept,
    accept_token,
    is_websocket_upgrade,
    rejection,
    validate_request,
)
from bench.servers.protocol.websocket.frames import Opcode, serialize_frame

GOOD = (
    b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
    b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
)


def parse_request(raw: bytes) -> tuple[Connection, Request]:
    http = Connection(Role.SERVER)
    http.receive_data(raw)
    request = http.next_event()
    assert isinstance(request, Request)
    assert http.next_event() == END_OF_MESSAGE
    return http, request


def test_accept_token_matches_rfc_6455_example():
    assert accept_token(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_valid_request_gets_101_through_the_http_core():
    http, request = parse_request(GOOD + b"Sec-WebSocket-Protocol: chat, superchat\r\n\r\n")
    assert is_websocket_upgrade(request)
    offer = validate_request(request)
    assert offer.subprotocols == ("chat", "superchat")
    accepted = accept(offer, subprotocol="superchat", extra_headers=[(b"x-served-by", b"bench")])
    assert accepted.response is not None
    wire = http.send(accepted.response)
    assert wire.startswith(b"HTTP/1.1 101 ")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in wire
    assert b"Sec-WebSocket-Protocol: superchat\r\n" in wire
    assert b"x-served-by: bench\r\n" in wire
    assert http.our_state.name == "SWITCHED_PROTOCOL"


REJECTIONS = [
    # (what is wrong, request head lines (without the blank line), status, extra header)
    (
        "version 8",
        GOOD.replace(b"Version: 13", b"Version: 8"),
        426,
        (b"Sec-WebSocket-Version", b"13"),
    ),
    (
        "no version",
        GOOD.replace(b"Sec-WebSocket-Version: 13\r\n", b""),
        426,
        (b"Sec-WebSocket-Version", b"13"),
    ),
    (
        "two versions",
        GOOD + b"Sec-WebSocket-Version: 8\r\n",
        426,
        (b"Sec-WebSocket-Version", b"13"),
    ),
    ("no key", GOOD.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b""), 400, None),
    ("short key", GOOD.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"c2hvcnQ="), 400, None),
    (
        "key not base64",
        GOOD.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"!!!!!!!!!!!!!!!!!!!!!!!!"),
        400,
        None,
    ),
    ("two keys", GOOD + b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 400, None),
    ("POST", GOOD.replace(b"GET", b"POST"), 400, None),
    ("no Connection: upgrade", GOOD.replace(b"keep-alive, Upgrade", b"keep-alive"), 400, None),
    (
        "bad extension syntax",
        GOOD + b"Sec-WebSocket-Extensions: permessage-deflate; =\r\n",
        400,
        None,
    ),
]


@pytest.mark.parametrize(
    ("what", "head", "status", "header"), REJECTIONS, ids=[r[0] for r in REJECTIONS]
)
def test_invalid_requests_are_rejected_with_the_right_status(what, head, status, header):
    http, request = parse_request(head + b"\r\n")
    with pytest.raises(HandshakeError) as info:
        validate_request(request)
    assert info.value.status_code == status
    if header is not None:
        assert header in info.value.headers
    response, body = rejection(info.value)
    wire = http.send(response) + http.send(Data(body)) + http.send(END_OF_MESSAGE)
    client = Connection(Role.CLIENT)
    client.send(Request(b"GET", b"/chat", [(b"host", b"example.com")]))
    client.send(END_OF_MESSAGE)
    client.receive_data(wire)
    parsed = client.next_event()
    assert isinstance(parsed, Response) and parsed.status_code == status


def test_accepting_a_subprotocol_that_was_not_offered_is_our_error():
    _, request = parse_request(GOOD + b"Sec-WebSocket-Protocol: chat\r\n\r\n")
    with pytest.raises(LocalProtocolError):
        accept(validate_request(request), subprotocol="other")


def test_our_client_and_server_agree_on_subprotocol_and_compression():
    config = DeflateConfig(client_no_context_takeover=True, server_max_window_bits=12)
    client, server = our_pair(
        client_deflate=config,
        server_deflate=DeflateConfig(),
        subprotocols=("v1", "v2"),
        choose="v2",
    )
    assert client.subprotocol == server.subprotocol == "v2"
    assert client.deflate is not None and server.deflate is not None
    assert (client.deflate.local_window, server.deflate.local_window) == (15, 12)
    assert client.deflate.local_no_context_takeover and server.deflate.remote_no_context_takeover
    assert drain(server, client.send(TextMessage("ping " * 20))) == [TextMessage("ping " * 20)]


def test_server_without_deflate_leaves_the_offer_unanswered():
    client, server = our_pair(client_deflate=DeflateConfig(), server_deflate=None)
    assert client.deflate is None and server.deflate is None


def test_their_client_accepts_our_server_handshake_with_deflate_and_subprotocol():
    client, server = with_their_client(
        deflate=ClientPerMessageDeflateFactory(server_max_window_bits=11),
        server_deflate=DeflateConfig(client_max_window_bits=10),
        subprotocols=["chat", "superchat"],
        choose="superchat",
    )
    assert client.subprotocol == "superchat" == server.subprotocol
    [ext] = client.extensions
    assert (ext.remote_max_window_bits, ext.local_max_window_bits) == (11, 10)
    assert server.deflate is not None
    assert (server.deflate.local_window, server.deflate.remote_window) == (11, 10)


def test_our_client_accepts_their_server_handshake_with_deflate_and_subprotocol():
    client, server = with_their_server(
        deflate=DeflateConfig(),
        server_deflate=ServerPerMessageDeflateFactory(
            server_max_window_bits=10, client_no_context_takeover=True
        ),
        subprotocols=("a", "b"),
        their_subprotocols=["b"],
    )
    assert client.subprotocol == "b" == server.subprotocol
    assert client.deflate is not None
    assert client.deflate.remote_window == 10
    assert client.deflate.local_no_context_takeover


def test_their_client_sees_our_426_and_its_version_header():
    theirs = ClientProtocol(parse_uri("ws://example.com/"))
    request = theirs.connect()
    del request.headers["Sec-WebSocket-Version"]
    request.headers["Sec-WebSocket-Version"] = "8"
    theirs.send_request(request)
    http, ours = parse_request(their_bytes(theirs))
    with pytest.raises(HandshakeError) as info:
        validate_request(ours)
    response, body = rejection(info.value)
    theirs.receive_data(http.send(response) + http.send(Data(body)) + http.send(END_OF_MESSAGE))
    [their_response] = theirs.events_received()
    assert their_response.status_code == 426
    assert their_response.headers["Sec-WebSocket-Version"] == "13"


def test_our_client_refuses_bad_answers():
    hs = ClientHandshake.start("example.com", subprotocols=("chat",))
    good = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-accept", accept_token(hs.key)),
    ]
    assert hs.validate(InformationalResponse(101, good)).subprotocol is None
    with pytest.raises(HandshakeError) as info:
        hs.validate(Response(403, []))
    assert info.value.status_code == 403
    wrong_accept = [*good[:2], (b"sec-websocket-accept", accept_token(b"other"))]
    with pytest.raises(HandshakeError, match="Accept"):
        hs.validate(InformationalResponse(101, wrong_accept))
    with pytest.raises(HandshakeError, match="subprotocol"):
        hs.validate(InformationalResponse(101, [*good, (b"sec-websocket-protocol", b"other")]))
    with pytest.raises(HandshakeError, match="extension"):
        hs.validate(
            InformationalResponse(
                101, [*good, (b"sec-websocket-extensions", b"permessage-deflate")]
            )
        )
    with pytest.raises(HandshakeError, match="Upgrade"):
        hs.validate(InformationalResponse(101, good[1:]))


def test_frames_sent_right_after_the_request_reach_the_websocket_connection():
    hs = ClientHandshake.start("example.com", "/")
    http_client = Connection(Role.CLIENT)
    first_frame = serialize_frame(Opcode.TEXT, b"early", mask=b"abcd")
    raw = http_client.send(hs.request) + http_client.send(END_OF_MESSAGE) + first_frame
    http, request = parse_request(raw)
    accepted = accept(validate_request(request))
    assert accepted.response is not None
    http.send(accepted.response)
    trailing, eof = http.trailing_data
    assert (trailing, eof) == (first_frame, False)
    ws = accepted.connection(Role.SERVER)
    assert drain(ws, trailing) == [TextMessage("early")]
    assert accepted.deflate is None
