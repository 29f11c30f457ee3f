"""WSConnection: the state machine, wired client-to-server in memory (both directions)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ws_testkit import drain, our_pair

from bench.servers.protocol import Role
from bench.servers.protocol.errors import LocalProtocolError
from bench.servers.protocol.websocket import (
    BytesMessage,
    CloseConnection,
    ConnectionState,
    DeflateConfig,
    Ping,
    Pong,
    TextMessage,
    WSConnection,
)
from bench.servers.protocol.websocket.frames import FrameParser, Opcode, serialize_frame


def frames_in(data: bytes, *, masked: bool) -> list[tuple[Opcode, bytes]]:
    parser = FrameParser(expect_masked=masked, allow_rsv1=True)
    parser.feed(data)
    out = []
    while (frame := parser.next_frame()) is not None:
        out.append((frame.opcode, frame.payload))
    return out


def test_messages_flow_both_ways():
    client, server = our_pair()
    assert drain(server, client.send(TextMessage("héllo"))) == [TextMessage("héllo")]
    assert drain(client, server.send(BytesMessage(b"\x00\xff"))) == [BytesMessage(b"\x00\xff")]
    assert drain(server, client.send(BytesMessage(b""))) == [BytesMessage(b"")]
    assert drain(client, server.send(TextMessage(""))) == [TextMessage("")]


def test_client_frames_are_masked_and_server_frames_are_not():
    client, server = our_pair()
    wire = client.send(TextMessage("abc"))
    assert wire[1] & 0x80 and b"abc" not in wire
    wire = server.send(TextMessage("abc"))
    assert not wire[1] & 0x80 and wire.endswith(b"abc")


def test_fragmented_send_with_an_interleaved_ping():
    client, server = our_pair()
    wire = (
        client.send(TextMessage("ab", fin=False))
        + client.send(Ping(b"mid"))
        + client.send(TextMessage("c", fin=False))
        + client.send(TextMessage("d"))
    )
    assert [op for op, _ in frames_in(wire, masked=True)] == [
        Opcode.TEXT,
        Opcode.PING,
        Opcode.CONTINUATION,
        Opcode.CONTINUATION,
    ]
    assert drain(server, wire) == [Ping(b"mid"), TextMessage("abcd")]
    assert frames_in(server.data_to_send(), masked=False) == [(Opcode.PONG, b"mid")]


def test_other_message_type_inside_a_fragmented_send_is_refused():
    client, _ = our_pair()
    client.send(BytesMessage(b"a", fin=False))
    with pytest.raises(LocalProtocolError):
        client.send(TextMessage("b"))
    client.send(BytesMessage(b"c"))
    client.send(TextMessage("now fine"))


def test_queued_pong_goes_out_before_the_next_message():
    client, server = our_pair()
    drain(server, client.send(Ping(b"1")))
    wire = server.send(TextMessage("after"))
    assert frames_in(wire, masked=False) == [(Opcode.PONG, b"1"), (Opcode.TEXT, b"after")]
    assert server.data_to_send() == b""


def test_auto_pong_can_be_turned_off():
    server = WSConnection(Role.SERVER, auto_pong=False)
    server.receive_data(serialize_frame(Opcode.PING, b"x", mask=b"abcd"))
    assert list(server.events()) == [Ping(b"x")]
    assert server.data_to_send() == b""


def test_unsolicited_pong_is_reported_and_not_answered():
    client, server = our_pair()
    assert drain(server, client.send(Pong(b"hb"))) == [Pong(b"hb")]
    assert server.data_to_send() == b""


def test_closing_handshake_started_by_the_client():
    client, server = our_pair()
    wire = client.send(CloseConnection(1000, "bye"))
    assert client.state is ConnectionState.LOCAL_CLOSING
    assert drain(server, wire) == [CloseConnection(1000, "bye")]
    assert server.state is ConnectionState.CLOSED
    echo = server.data_to_send()
    assert frames_in(echo, masked=False) == [(Opcode.CLOSE, b"\x03\xe8")]
    assert drain(client, echo) == [CloseConnection(1000, "")]
    assert client.state is ConnectionState.CLOSED
    assert (client.close_code, server.close_code, server.close_reason) == (1000, 1000, "bye")


def test_messages_still_arrive_while_we_wait_for_the_peer_close():
    client, server = our_pair()
    close = server.send(CloseConnection(1001))
    late = client.send(TextMessage("in flight"))
    assert drain(client, close) == [CloseConnection(1001, "")]
    assert drain(server, late + client.data_to_send()) == [
        TextMessage("in flight"),
        CloseConnection(1001, ""),
    ]
    assert server.state is ConnectionState.CLOSED


def test_close_without_code_is_reported_as_1005_and_echoed_empty():
    client, server = our_pair()
    assert drain(server, client.send(CloseConnection(1005))) == [CloseConnection(1005, "")]
    assert frames_in(server.data_to_send(), masked=False) == [(Opcode.CLOSE, b"")]


def test_close_in_the_middle_of_a_fragmented_message_is_honoured():
    client, server = our_pair()
    wire = client.send(TextMessage("part", fin=False)) + client.send(CloseConnection(1000))
    assert drain(server, wire) == [CloseConnection(1000, "")]


def test_nothing_may_be_sent_after_our_close():
    client, server = our_pair()
    client.send(CloseConnection())
    for event in (TextMessage("x"), Ping(), CloseConnection()):
        with pytest.raises(LocalProtocolError):
            client.send(event)
    assert client.data_to_send() == b""
    assert server.state is ConnectionState.OPEN


def test_end_of_stream_without_close_is_1006_and_reported_once():
    client, server = our_pair()
    server.receive_data(client.send(TextMessage("last")))
    server.receive_data(b"")
    assert list(server.events()) == [TextMessage("last"), CloseConnection(1006, "")]
    assert list(server.events()) == []
    assert server.state is ConnectionState.CLOSED
    assert server.data_to_send() == b""  # no Close frame for a dead stream


def test_protocol_failure_queues_the_close_and_ignores_what_follows():
    server = WSConnection(Role.SERVER)
    bad = serialize_frame(Opcode.TEXT, b"\xff", mask=b"abcd")
    after = serialize_frame(Opcode.TEXT, b"ignored", mask=b"abcd")
    server.receive_data(bad + after)
    [event] = list(server.events())
    assert event.code == 1007 and server.failure is not None
    server.receive_data(after)
    assert list(server.events()) == []
    [(opcode, payload)] = frames_in(server.data_to_send(), masked=False)
    assert opcode is Opcode.CLOSE and payload[:2] == (1007).to_bytes(2, "big")


def test_oversized_control_payloads_are_refused_on_send():
    client, _ = our_pair()
    with pytest.raises(LocalProtocolError):
        client.send(Ping(b"x" * 126))
    with pytest.raises(LocalProtocolError):
        client.send(CloseConnection(1000, "r" * 124))


messages = st.lists(
    st.one_of(
        st.builds(TextMessage, st.text(max_size=300)),
        st.builds(BytesMessage, st.binary(max_size=3000)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=50, deadline=None)
@given(messages, st.integers(1, 4000), st.booleans())
def test_any_messages_in_any_chunking_arrive_intact(batch, chunk: int, deflate: bool):
    config = DeflateConfig() if deflate else None
    client, server = our_pair(client_deflate=config, server_deflate=config)
    wire = b"".join(client.send(m) for m in batch)
    assert drain(server, wire, chunk=chunk) == batch
    wire = b"".join(server.send(m) for m in batch)
    assert drain(client, wire, chunk=chunk) == batch
