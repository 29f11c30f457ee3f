"""Modelled on Autobahn|Testsuite sections 1-5: framing, pings, reserved bits, opcodes, fragments.

Each case runs twice: our server against the websockets client, and our client against
the websockets server (``side``). Our side echoes every message, as Autobahn's test
peer expects; broken input is written as raw frames (websockets will not produce it),
and the close code we answer with is read back by the websockets peer.
"""

from __future__ import annotations

import pytest
from ws_testkit import Harness, TheirOpcode

from bench.servers.protocol import Role
from bench.servers.protocol.websocket import (
    BytesMessage,
    CloseConnection,
    ConnectionState,
    Ping,
    Pong,
    TextMessage,
)
from bench.servers.protocol.websocket.frames import Opcode

TEXT, BINARY, CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION
PING, PONG, CLOSE = Opcode.PING, Opcode.PONG, Opcode.CLOSE


@pytest.fixture(params=[Role.SERVER, Role.CLIENT], ids=["our-server", "our-client"])
def side(request: pytest.FixtureRequest) -> Harness:
    return Harness(request.param)


def their_data(h: Harness) -> list[tuple[TheirOpcode, bytes]]:
    return [(f.opcode, bytes(f.data)) for f in h.their_events()]


def assert_failed_with(h: Harness, code: int) -> None:
    assert h.events[-1] == CloseConnection(code, h.events[-1].reason)  # type: ignore[union-attr]
    assert h.ours.state is ConnectionState.CLOSED
    h.their_events()
    assert h.their_close_code == code


# -- 1. framing ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 125, 126, 127, 128, 65535, 65536])
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_1_messages_of_boundary_lengths_are_echoed(side: Harness, size: int, kind: str):
    if kind == "text":
        side.theirs.send_text(b"*" * size)
        expected = (TheirOpcode.TEXT, b"*" * size)
    else:
        side.theirs.send_binary(b"\xfe" * size)
        expected = (TheirOpcode.BINARY, b"\xfe" * size)
    side.deliver(side.from_peer())
    assert their_data(side) == [expected]


def test_1_message_delivered_in_997_byte_chops(side: Harness):
    side.theirs.send_binary(bytes(range(256)) * 256)
    side.deliver(side.from_peer(), chunk=997)
    assert their_data(side) == [(TheirOpcode.BINARY, bytes(range(256)) * 256)]


# -- 2. pings and pongs ---------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"", b"Hello, world!", bytes(range(125)), b"\x00\xff\xfe\xfd"])
def test_2_ping_is_answered_with_the_same_payload(side: Harness, payload: bytes):
    side.theirs.send_ping(payload)
    assert side.deliver(side.from_peer()) == [Ping(payload)]
    assert their_data(side) == [(TheirOpcode.PONG, payload)]


def test_2_ping_over_125_bytes_fails_with_1002(side: Harness):
    side.deliver(side.peer_frame(PING, b"x" * 126))
    assert_failed_with(side, 1002)


def test_2_ping_delivered_byte_by_byte(side: Harness):
    side.theirs.send_ping(b"*" * 125)
    side.deliver(side.from_peer(), chunk=1)
    assert their_data(side) == [(TheirOpcode.PONG, b"*" * 125)]


def test_2_unsolicited_pongs_get_no_answer(side: Harness):
    side.theirs.send_pong(b"unsolicited")
    side.theirs.send_ping(b"ping")
    assert side.deliver(side.from_peer()) == [Pong(b"unsolicited"), Ping(b"ping")]
    assert their_data(side) == [(TheirOpcode.PONG, b"ping")]


@pytest.mark.parametrize("chunk", [None, 1])
def test_2_ten_pings_get_ten_pongs_in_order(side: Harness, chunk: int | None):
    for i in range(10):
        side.theirs.send_ping(b"payload-%d" % i)
    side.deliver(side.from_peer(), chunk=chunk)
    assert their_data(side) == [(TheirOpcode.PONG, b"payload-%d" % i) for i in range(10)]


# -- 3. reserved bits -----------------------------------------------------------------

RSV = [
    {"rsv1": True},
    {"rsv2": True},
    {"rsv3": True},
    {"rsv1": True, "rsv2": True},
    {"rsv1": True, "rsv3": True},
    {"rsv2": True, "rsv3": True},
    {"rsv1": True, "rsv2": True, "rsv3": True},
]


@pytest.mark.parametrize("bits", RSV, ids=lambda b: "+".join(b))
@pytest.mark.parametrize("opcode", [TEXT, BINARY, PING, CLOSE])
def test_3_reserved_bits_fail_with_1002(side: Harness, bits: dict[str, bool], opcode: Opcode):
    side.deliver(side.peer_frame(opcode, b"", **bits))
    assert_failed_with(side, 1002)


def test_3_valid_message_then_reserved_bit_then_ping(side: Harness):
    wire = (
        side.peer_frame(TEXT, b"Hello")
        + side.peer_frame(TEXT, b"World", rsv2=True)
        + side.peer_frame(PING, b"never answered")
    )
    side.deliver(wire)
    assert side.events[0] == TextMessage("Hello")
    assert their_data(side)[0] == (TheirOpcode.TEXT, b"Hello")
    assert side.their_close_code == 1002
    assert Ping(b"never answered") not in side.events


# -- 4. opcodes -----------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_4_reserved_opcodes_fail_with_1002(side: Harness, opcode: int):
    side.deliver(
        side.peer_frame(TEXT, b"first") + side.peer_frame(opcode, b"x") + side.peer_frame(PING)
    )
    assert side.events[0] == TextMessage("first")
    assert Ping(b"") not in side.events
    assert_failed_with(side, 1002)


# -- 5. fragmentation -----------------------------------------------------------------


@pytest.mark.parametrize("opcode", [PING, PONG])
def test_5_fragmented_control_frames_fail_with_1002(side: Harness, opcode: Opcode):
    side.deliver(side.peer_frame(opcode, b"frag", fin=False) + side.peer_frame(CONT, b"ment"))
    assert_failed_with(side, 1002)


@pytest.mark.parametrize("chunk", [None, 3, 1])
def test_5_text_in_two_fragments_with_a_ping_between(side: Harness, chunk: int | None):
    wire = (
        side.peer_frame(TEXT, b"fragment1", fin=False)
        + side.peer_frame(PING, b"between")
        + side.peer_frame(CONT, b"fragment2")
    )
    assert side.deliver(wire, chunk=chunk) == [Ping(b"between"), TextMessage("fragment1fragment2")]
    assert their_data(side) == [
        (TheirOpcode.PONG, b"between"),
        (TheirOpcode.TEXT, b"fragment1fragment2"),
    ]


def test_5_many_fragments_and_pings_from_the_websockets_api(side: Harness):
    side.theirs.send_binary(b"a", fin=False)
    for i in range(5):
        side.theirs.send_ping(b"%d" % i)
        side.theirs.send_continuation(b"b%d" % i, fin=False)
    side.theirs.send_continuation(b"", fin=True)
    events = side.deliver(side.from_peer())
    assert events[-1] == BytesMessage(b"ab0b1b2b3b4")
    assert len(events) == 6


@pytest.mark.parametrize("fin", [True, False])
def test_5_continuation_without_a_message_fails_with_1002(side: Harness, fin: bool):
    side.deliver(side.peer_frame(CONT, b"orphan", fin=fin))
    assert_failed_with(side, 1002)


def test_5_continuation_after_a_finished_message_fails_with_1002(side: Harness):
    side.deliver(side.peer_frame(TEXT, b"done") + side.peer_frame(CONT, b"too late"))
    assert side.events[0] == TextMessage("done")
    assert_failed_with(side, 1002)


def test_5_new_message_inside_a_fragmented_one_fails_with_1002(side: Harness):
    side.deliver(side.peer_frame(TEXT, b"start", fin=False) + side.peer_frame(TEXT, b"again"))
    assert_failed_with(side, 1002)


def test_5_empty_fragments_make_an_empty_message(side: Harness):
    wire = (
        side.peer_frame(TEXT, b"", fin=False)
        + side.peer_frame(CONT, b"", fin=False)
        + side.peer_frame(CONT)
    )
    assert side.deliver(wire) == [TextMessage("")]
    assert their_data(side) == [(TheirOpcode.TEXT, b"")]
