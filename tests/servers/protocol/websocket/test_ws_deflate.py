"""permessage-deflate: negotiation tables and the codec, checked against websockets' own."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.extensions.permessage_deflate import PerMessageDeflate as TheirDeflate
from websockets.frames import Frame as TheirFrame
from websockets.frames import Opcode as TheirOpcode

from bench.servers.protocol.websocket.deflate import (
    DeflateConfig,
    DeflateParams,
    PerMessageDeflate,
    client_offer,
    negotiate_client,
    negotiate_server,
)
from bench.servers.protocol.websocket.errors import (
    HandshakeError,
    MessageTooBig,
    WebSocketProtocolError,
)
from bench.servers.protocol.websocket.headers import parse_extensions


def offers(value: bytes) -> list:
    return parse_extensions([value])


# (client offer, server config, expected answer or None when declined)
SERVER_TABLE = [
    (b"permessage-deflate", DeflateConfig(), b"permessage-deflate"),
    (
        b"permessage-deflate; client_max_window_bits",
        DeflateConfig(client_max_window_bits=10),
        b"permessage-deflate; client_max_window_bits=10",
    ),
    (
        b"permessage-deflate; client_max_window_bits=12",
        DeflateConfig(),
        b"permessage-deflate; client_max_window_bits=12",
    ),
    (
        b"permessage-deflate; server_max_window_bits=10",
        DeflateConfig(server_max_window_bits=12),
        b"permessage-deflate; server_max_window_bits=10",
    ),
    (
        b"permessage-deflate",
        DeflateConfig(server_max_window_bits=11, server_no_context_takeover=True),
        b"permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
    ),
    (
        b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        DeflateConfig(),
        b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    ),
    # An 8-bit server window cannot be honoured with zlib: the offer is declined ...
    (b"permessage-deflate; server_max_window_bits=8", DeflateConfig(), None),
    # ... but a later, acceptable offer in the same header is taken.
    (
        b"permessage-deflate; server_max_window_bits=8, permessage-deflate",
        DeflateConfig(),
        b"permessage-deflate",
    ),
    (b"permessage-deflate; unknown_param", DeflateConfig(), None),
    (b"permessage-deflate; server_max_window_bits", DeflateConfig(), None),
    (b"permessage-deflate; server_max_window_bits=16", DeflateConfig(), None),
    (b"permessage-deflate; server_max_window_bits=010", DeflateConfig(), None),
    (b"permessage-deflate; server_no_context_takeover=1", DeflateConfig(), None),
    (
        b"permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        DeflateConfig(),
        None,
    ),
    (b"x-webkit-deflate-frame", DeflateConfig(), None),
    (
        b'permessage-deflate; client_max_window_bits="10"',
        DeflateConfig(),
        b"permessage-deflate; client_max_window_bits=10",
    ),
]


@pytest.mark.parametrize(("offer", "config", "answer"), SERVER_TABLE)
def test_server_negotiation(offer: bytes, config: DeflateConfig, answer: bytes | None):
    params = negotiate_server(offers(offer), config)
    assert (params.header_value() if params else None) == answer


# (our client config, server answer, expected params, or an error)
CLIENT_TABLE = [
    (DeflateConfig(), b"permessage-deflate", DeflateParams()),
    (
        DeflateConfig(),
        b"permessage-deflate; client_max_window_bits=11; server_max_window_bits=9",
        DeflateParams(client_max_window_bits=11, server_max_window_bits=9),
    ),
    (
        DeflateConfig(server_no_context_takeover=True),
        b"permessage-deflate; server_no_context_takeover",
        DeflateParams(server_no_context_takeover=True),
    ),
    (DeflateConfig(server_no_context_takeover=True), b"permessage-deflate", HandshakeError),
    (
        DeflateConfig(server_max_window_bits=10),
        b"permessage-deflate; server_max_window_bits=12",
        HandshakeError,
    ),
    (DeflateConfig(), b"permessage-deflate; client_max_window_bits=8", HandshakeError),
    (DeflateConfig(), b"permessage-deflate; client_max_window_bits", HandshakeError),
    (DeflateConfig(), b"permessage-deflate; bogus", HandshakeError),
    (DeflateConfig(), b"other-extension", HandshakeError),
    (DeflateConfig(), b"permessage-deflate, permessage-deflate", HandshakeError),
]


@pytest.mark.parametrize(("config", "answer", "expected"), CLIENT_TABLE)
def test_client_validates_the_answer(config: DeflateConfig, answer: bytes, expected):
    if expected is HandshakeError:
        with pytest.raises(HandshakeError):
            negotiate_client(offers(answer), config)
    else:
        assert negotiate_client(offers(answer), config) == expected


def test_client_offer_always_allows_a_client_window_limit():
    assert client_offer(DeflateConfig()) == b"permessage-deflate; client_max_window_bits"
    offer = client_offer(DeflateConfig(client_no_context_takeover=True, client_max_window_bits=12))
    assert offer == b"permessage-deflate; client_no_context_takeover; client_max_window_bits=12"
    assert negotiate_client([], DeflateConfig()) is None


def test_config_refuses_windows_zlib_cannot_compress_with():
    with pytest.raises(ValueError):
        DeflateConfig(server_max_window_bits=8)


PARAMS = st.builds(
    DeflateParams,
    st.booleans(),
    st.booleans(),
    st.integers(9, 15),
    st.integers(9, 15),
)
MESSAGES = st.lists(
    st.one_of(st.binary(max_size=3000), st.text(max_size=500).map(str.encode)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(PARAMS, MESSAGES)
def test_round_trip_both_directions_with_any_parameters(
    params: DeflateParams, messages: list[bytes]
):
    server = PerMessageDeflate(params, is_server=True)
    client = PerMessageDeflate(params, is_server=False)
    for message in messages:
        assert client.decompress(server.compress(message), True, None) == message
        assert server.decompress(client.compress(message), True, None) == message


@settings(max_examples=40, deadline=None)
@given(PARAMS, MESSAGES)
def test_websockets_inflates_what_we_deflate_and_the_reverse(
    params: DeflateParams, messages: list[bytes]
):
    ours = PerMessageDeflate(params, is_server=True)
    theirs = TheirDeflate(
        remote_no_context_takeover=params.server_no_context_takeover,
        local_no_context_takeover=params.client_no_context_takeover,
        remote_max_window_bits=params.server_max_window_bits,
        local_max_window_bits=params.client_max_window_bits,
    )
    for message in messages:
        frame = TheirFrame(TheirOpcode.BINARY, ours.compress(message), rsv1=True)
        assert bytes(theirs.decode(frame).data) == message
        encoded = theirs.encode(TheirFrame(TheirOpcode.BINARY, message))
        assert encoded.rsv1
        assert ours.decompress(bytes(encoded.data), True, None) == message


def test_fragmented_compression_inflates_to_the_whole_message():
    sender = PerMessageDeflate(DeflateParams(), is_server=False)
    receiver = PerMessageDeflate(DeflateParams(), is_server=True)
    parts = [b"alpha " * 50, b"beta " * 50, b"gamma"]
    wire = [sender.compress(p, fin=i == len(parts) - 1) for i, p in enumerate(parts)]
    got = b"".join(receiver.decompress(w, i == len(wire) - 1, None) for i, w in enumerate(wire))
    assert got == b"".join(parts)


def test_context_takeover_makes_repeated_messages_smaller_and_no_takeover_does_not():
    message = os.urandom(64).hex().encode() * 4
    keep = PerMessageDeflate(DeflateParams(), is_server=True)
    reset = PerMessageDeflate(DeflateParams(server_no_context_takeover=True), is_server=True)
    assert len(keep.compress(message)) > len(keep.compress(message))
    assert len(reset.compress(message)) == len(reset.compress(message))


def test_decompression_bomb_is_stopped_at_the_limit():
    bomb = PerMessageDeflate(DeflateParams(), is_server=False).compress(b"\x00" * 10_000_000)
    assert len(bomb) < 20_000
    receiver = PerMessageDeflate(DeflateParams(), is_server=True)
    with pytest.raises(MessageTooBig) as info:
        receiver.decompress(bomb, True, 1_000_000)
    assert info.value.close_code == 1009


def test_corrupt_data_is_a_protocol_error():
    receiver = PerMessageDeflate(DeflateParams(), is_server=True)
    with pytest.raises(WebSocketProtocolError) as info:
        receiver.decompress(b"\xff\xff\xff\xff\xff", True, None)
    assert info.value.close_code == 1002
