"""Modelled on Autobahn|Testsuite sections 6 (UTF-8 handling) and 7 (close handling).

As in the framing tests, each case runs with our server against the websockets client
and with our client against the websockets server; our side echoes every message.
"""

from __future__ import annotations

import pytest
from ws_testkit import Harness, TheirOpcode

from bench.servers.protocol import Role
from bench.servers.protocol.websocket import CloseConnection, ConnectionState, TextMessage
from bench.servers.protocol.websocket.frames import Opcode

TEXT, CONT, PING, CLOSE = Opcode.TEXT, Opcode.CONTINUATION, Opcode.PING, Opcode.CLOSE


@pytest.fixture(params=[Role.SERVER, Role.CLIENT], ids=["our-server", "our-client"])
def side(request: pytest.FixtureRequest) -> Harness:
    return Harness(request.param)


def assert_failed_with(h: Harness, code: int) -> None:
    last = h.events[-1]
    assert isinstance(last, CloseConnection) and last.code == code
    assert h.ours.state is ConnectionState.CLOSED
    h.their_events()
    assert h.their_close_code == code


# -- 6. UTF-8 -----------------------------------------------------------------------

VALID_TEXT = [
    "",
    "Hello-µ@ßöäüàá-UTF-8!!",
    "κόσμε",
    "\x00",
    "\x7f\x80\u07ff\u0800\uffff\U00010000\U0010ffff",
    "\ufffe\uffff",  # noncharacters are valid UTF-8
    "𝄞 music 🎵 and ＡＢＣ",
]

INVALID_UTF8 = {
    "surrogate in kosme": b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
    "lone continuation": b"\x80",
    "continuation run": b"\x80\xbf\x80\xbf",
    "overlong slash 2": b"\xc0\xaf",
    "overlong slash 3": b"\xe0\x80\xaf",
    "overlong slash 4": b"\xf0\x80\x80\xaf",
    "overlong nul": b"\xc0\x80",
    "high surrogate": b"\xed\xa0\x80",
    "low surrogate": b"\xed\xbf\xbf",
    "above U+10FFFF": b"\xf4\x90\x80\x80",
    "5-byte form": b"\xf8\x88\x80\x80\x80",
    "fe": b"\xfe",
    "ff": b"\xff",
    "truncated 3-byte at end": b"abc\xe2\x82",
    "truncated 4-byte at end": b"\xf0\x9f\x98",
    "missing continuation": b"\xc3(",
}


@pytest.mark.parametrize("text", VALID_TEXT)
def test_6_valid_text_split_at_every_byte_is_echoed(side: Harness, text: str):
    raw = text.encode()
    for cut in range(len(raw) + 1):
        wire = side.peer_frame(TEXT, raw[:cut], fin=False) + side.peer_frame(CONT, raw[cut:])
        assert side.deliver(wire) == [TextMessage(text)]
    side.deliver(side.peer_frame(TEXT, raw), chunk=1)
    assert [data for _, data in [(f.opcode, bytes(f.data)) for f in side.their_events()]] == [
        raw
    ] * (len(raw) + 2)


def test_6_text_from_the_websockets_api_in_three_byte_fragments(side: Harness):
    raw = "κόσμε — 𝄞 — done".encode()
    pieces = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    side.theirs.send_text(pieces[0], fin=False)
    for piece in pieces[1:-1]:
        side.theirs.send_continuation(piece, fin=False)
    side.theirs.send_continuation(pieces[-1], fin=True)
    assert side.deliver(side.from_peer()) == [TextMessage(raw.decode())]


@pytest.mark.parametrize("raw", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_6_invalid_utf8_fails_with_1007(side: Harness, raw: bytes):
    side.deliver(side.peer_frame(TEXT, raw))
    assert_failed_with(side, 1007)


@pytest.mark.parametrize("raw", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_6_invalid_utf8_split_across_fragments_fails_with_1007(side: Harness, raw: bytes):
    cut = len(raw) // 2
    side.deliver(side.peer_frame(TEXT, raw[:cut], fin=False) + side.peer_frame(CONT, raw[cut:]))
    assert_failed_with(side, 1007)


@pytest.mark.parametrize(
    "first_fragment",
    [
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80",
        b"hello\xed\xa0",
        b"\xc0",
        b"ok\xff",
    ],
)
def test_6_invalid_utf8_fails_fast_before_the_message_ends(side: Harness, first_fragment: bytes):
    side.deliver(side.peer_frame(TEXT, first_fragment, fin=False))  # the rest never comes
    assert_failed_with(side, 1007)


def test_6_binary_messages_are_not_utf8_checked(side: Harness):
    side.deliver(side.peer_frame(Opcode.BINARY, b"\xff\xfe\xed\xa0\x80"))
    assert side.ours.state is ConnectionState.OPEN


# -- 7. close handling ----------------------------------------------------------------


def test_7_message_then_close_is_echoed_then_closed(side: Harness):
    side.theirs.send_text(b"Hello World!")
    side.theirs.send_close(1000, "")
    side.deliver(side.from_peer())
    frames = side.their_events()
    assert [(f.opcode, bytes(f.data)) for f in frames] == [
        (TheirOpcode.TEXT, b"Hello World!"),
        (TheirOpcode.CLOSE, b"\x03\xe8"),
    ]
    assert side.ours.state is ConnectionState.CLOSED


def test_7_everything_after_the_close_is_ignored(side: Harness):
    wire = (
        side.peer_frame(CLOSE, b"\x03\xe8")
        + side.peer_frame(CLOSE, b"\x03\xe8")
        + side.peer_frame(PING, b"after")
        + side.peer_frame(TEXT, b"after")
    )
    assert side.deliver(wire) == [CloseConnection(1000, "")]
    frames = side.their_events()
    assert [f.opcode for f in frames] == [TheirOpcode.CLOSE]


def test_7_close_in_a_fragmented_message_ends_it(side: Harness):
    wire = (
        side.peer_frame(TEXT, b"frag", fin=False)
        + side.peer_frame(CLOSE, b"\x03\xe8")
        + side.peer_frame(CONT, b"ment")
    )
    assert side.deliver(wire) == [CloseConnection(1000, "")]


@pytest.mark.parametrize(
    ("payload", "code", "reason"),
    [
        (b"", 1005, ""),
        (b"\x03\xe8", 1000, ""),
        (b"\x03\xe8" + b"Hello World!", 1000, "Hello World!"),
        (b"\x03\xe8" + b"*" * 123, 1000, "*" * 123),
        (b"\x03\xe9" + "µ".encode(), 1001, "µ"),
    ],
)
def test_7_valid_close_payloads_are_echoed(side: Harness, payload: bytes, code: int, reason: str):
    assert side.deliver(side.peer_frame(CLOSE, payload)) == [CloseConnection(code, reason)]
    [frame] = side.their_events()
    assert bytes(frame.data) == payload[:2]  # the code echoed, no reason


def test_7_close_payload_of_one_byte_fails_with_1002(side: Harness):
    side.deliver(side.peer_frame(CLOSE, b"\x03"))
    assert_failed_with(side, 1002)


def test_7_close_payload_over_125_bytes_fails_with_1002(side: Harness):
    side.deliver(side.peer_frame(CLOSE, b"\x03\xe8" + b"*" * 124))
    assert_failed_with(side, 1002)


def test_7_close_reason_with_invalid_utf8_fails_with_1007(side: Harness):
    side.deliver(side.peer_frame(CLOSE, b"\x03\xe8" + INVALID_UTF8["surrogate in kosme"]))
    assert_failed_with(side, 1007)


@pytest.mark.parametrize(
    "code",
    [
        1000,
        1001,
        1002,
        1003,
        1007,
        1008,
        1009,
        1010,
        1011,
        1012,
        1013,
        1014,
        3000,
        3999,
        4000,
        4999,
    ],
)
def test_7_valid_close_codes_are_echoed(side: Harness, code: int):
    side.theirs.send_close(code, "")
    assert side.deliver(side.from_peer()) == [CloseConnection(code, "")]
    side.their_events()
    assert side.their_close_code == code


@pytest.mark.parametrize(
    "code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
)
def test_7_invalid_close_codes_fail_with_1002(side: Harness, code: int):
    side.deliver(side.peer_frame(CLOSE, code.to_bytes(2, "big")))
    assert_failed_with(side, 1002)


def test_7_end_of_stream_without_close_is_1006(side: Harness):
    side.deliver(side.peer_frame(TEXT, b"bye"))
    assert side.deliver(b"") == [CloseConnection(1006, "")]
