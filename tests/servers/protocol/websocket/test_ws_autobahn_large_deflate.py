"""Modelled on Autobahn|Testsuite sections 9 (limits/performance: large messages) and
12-13 (permessage-deflate: payloads of many sizes, then every parameter combination).

Our server runs against the websockets client and our client against the websockets
server; our side echoes, and the websockets peer checks what comes back.
"""

from __future__ import annotations

import random

import pytest
from ws_testkit import (
    ClientPerMessageDeflateFactory,
    Harness,
    ServerPerMessageDeflateFactory,
    TheirOpcode,
)

from bench.servers.protocol import Role
from bench.servers.protocol.websocket import (
    CloseConnection,
    DeflateConfig,
    TextMessage,
)
from bench.servers.protocol.websocket.frames import Opcode

SIDES = pytest.mark.parametrize(
    "role", [Role.SERVER, Role.CLIENT], ids=["our-server", "our-client"]
)
MiB = 1 << 20


def their_messages(h: Harness) -> list[tuple[TheirOpcode, bytes]]:
    """Reassemble the frames the websockets peer read into (opcode, data) messages."""
    out: list[tuple[TheirOpcode, bytes]] = []
    parts: list[bytes] = []
    opcode = None
    for frame in h.their_events():
        if frame.opcode in (TheirOpcode.TEXT, TheirOpcode.BINARY):
            opcode, parts = frame.opcode, [bytes(frame.data)]
        elif frame.opcode is TheirOpcode.CONT:
            parts.append(bytes(frame.data))
        else:
            continue
        if frame.fin:
            out.append((opcode, b"".join(parts)))  # type: ignore[arg-type]
    return out


def text_payload(size: int, seed: int = 0) -> bytes:
    words = ["bench", "websocket", "κόσμε", "deflate", "µ", "frame", "🎵", "echo"]
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += (rng.choice(words) + " ").encode()
    return bytes(out[:size]).decode("utf-8", errors="ignore").encode()


# -- 9. large messages ----------------------------------------------------------------


@SIDES
@pytest.mark.parametrize("size", [64 * 1024, 256 * 1024, MiB, 4 * MiB])
def test_9_large_single_frame_messages(role: Role, size: int):
    h = Harness(role, max_message_size=16 * MiB)
    text = text_payload(size)
    h.theirs.send_text(text)
    h.theirs.send_binary(b"\xfe" * size)
    h.deliver(h.from_peer())
    assert their_messages(h) == [(TheirOpcode.TEXT, text), (TheirOpcode.BINARY, b"\xfe" * size)]


@SIDES
@pytest.mark.parametrize("frame_size", [64, 1024, 16 * 1024, 256 * 1024, MiB])
def test_9_one_mebibyte_in_frames_of_every_size(role: Role, frame_size: int):
    h = Harness(role, max_message_size=16 * MiB)
    data = bytes(range(256)) * (MiB // 256)
    pieces = [data[i : i + frame_size] for i in range(0, MiB, frame_size)]
    wire = h.peer_frame(Opcode.BINARY, pieces[0], fin=len(pieces) == 1)
    for index, piece in enumerate(pieces[1:], start=2):
        wire += h.peer_frame(Opcode.CONTINUATION, piece, fin=index == len(pieces))
    h.deliver(wire)
    assert their_messages(h) == [(TheirOpcode.BINARY, data)]


@SIDES
@pytest.mark.parametrize("chunk", [64, 4096, 131072])
def test_9_one_mebibyte_message_in_transport_chops(role: Role, chunk: int):
    h = Harness(role, max_message_size=16 * MiB)
    text = text_payload(MiB, seed=9)
    h.theirs.send_text(text)
    h.deliver(h.from_peer(), chunk=chunk)
    assert their_messages(h) == [(TheirOpcode.TEXT, text)]


@SIDES
def test_9_a_thousand_small_messages(role: Role):
    h = Harness(role)
    for i in range(1000):
        h.theirs.send_text(b"message %04d" % i)
    h.deliver(h.from_peer())
    assert [data for _, data in their_messages(h)] == [b"message %04d" % i for i in range(1000)]


@SIDES
@pytest.mark.parametrize("fragmented", [False, True])
def test_9_message_over_the_limit_fails_with_1009(role: Role, fragmented: bool):
    h = Harness(role, max_message_size=64 * 1024)
    if fragmented:
        wire = h.peer_frame(Opcode.BINARY, b"x" * 40_000, fin=False)
        wire += h.peer_frame(Opcode.CONTINUATION, b"x" * 40_000)
    else:
        wire = h.peer_frame(Opcode.BINARY, b"x" * (64 * 1024 + 1))
    h.deliver(wire)
    assert isinstance(h.events[-1], CloseConnection) and h.events[-1].code == 1009
    h.their_events()
    assert h.their_close_code == 1009


@SIDES
def test_9_compressed_message_over_the_limit_fails_with_1009(role: Role):
    their = (
        ClientPerMessageDeflateFactory()
        if role is Role.SERVER
        else ServerPerMessageDeflateFactory()
    )
    h = Harness(role, our_deflate=DeflateConfig(), their_deflate=their, max_message_size=64 * 1024)
    h.theirs.send_binary(b"\x00" * (1 << 20))  # deflates to about a kilobyte
    wire = h.from_peer()
    assert len(wire) < 4096
    h.deliver(wire)
    assert isinstance(h.events[-1], CloseConnection) and h.events[-1].code == 1009


# -- 12. permessage-deflate with payloads of many sizes --------------------------------

SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072]


def deflate_harness(role: Role, ours: DeflateConfig, **theirs: object) -> Harness:
    factory = (
        ClientPerMessageDeflateFactory if role is Role.SERVER else ServerPerMessageDeflateFactory
    )
    h = Harness(role, our_deflate=ours, their_deflate=factory(**theirs), max_message_size=16 * MiB)
    assert h.ours.deflate is not None and h.theirs.extensions
    return h


@SIDES
@pytest.mark.parametrize("size", SIZES)
def test_12_compressed_echo_of_every_size(role: Role, size: int):
    h = deflate_harness(role, DeflateConfig())
    rng = random.Random(size)
    sent = []
    for i in range(5):
        text = text_payload(size, seed=i)
        binary = rng.randbytes(size) if i % 2 else bytes(size)
        h.theirs.send_text(text)
        h.theirs.send_binary(binary)
        sent += [(TheirOpcode.TEXT, text), (TheirOpcode.BINARY, binary)]
    events = h.deliver(h.from_peer())
    assert [e.data.encode() if isinstance(e, TextMessage) else e.data for e in events] == [  # type: ignore[union-attr]
        data for _, data in sent
    ]
    assert their_messages(h) == sent


@SIDES
def test_12_our_compressed_frames_carry_rsv1_and_are_smaller(role: Role):
    h = deflate_harness(role, DeflateConfig())
    text = text_payload(16384)
    h.theirs.send_text(text)
    h.deliver(h.from_peer())
    raw = bytes(h.sent)
    assert raw[0] & 0x40  # RSV1 on the first frame of the echoed message
    assert len(raw) < len(text) // 2
    h.their_events()


@SIDES
def test_12_rsv1_on_a_control_frame_fails_with_1002(role: Role):
    h = deflate_harness(role, DeflateConfig())
    h.deliver(h.peer_frame(Opcode.PING, b"x", rsv1=True))
    assert isinstance(h.events[-1], CloseConnection) and h.events[-1].code == 1002


# -- 13. every parameter combination --------------------------------------------------

# (what the client offers, what the server is configured with): from Autobahn 13.1-13.7
COMBOS = [
    ({}, {}),
    ({"client_no_context_takeover": True}, {}),
    ({"server_no_context_takeover": True}, {}),
    ({"client_max_window_bits": 9}, {}),
    ({"client_max_window_bits": 15}, {}),
    ({"client_no_context_takeover": True, "client_max_window_bits": 9}, {}),
    ({"server_max_window_bits": 9, "server_no_context_takeover": True}, {}),
    ({}, {"server_max_window_bits": 10, "client_max_window_bits": 11}),
    ({}, {"server_no_context_takeover": True, "client_no_context_takeover": True}),
]


@pytest.mark.parametrize(("offer", "config"), COMBOS, ids=[str(c) for c in COMBOS])
@SIDES
def test_13_parameter_combinations(role: Role, offer: dict, config: dict):
    if role is Role.SERVER:
        h = deflate_harness(role, DeflateConfig(**config), **offer)
    else:
        h = deflate_harness(role, DeflateConfig(**offer), **config)
    sent = []
    for size in (16, 256, 4096, 65536):
        for i in range(3):
            text = text_payload(size, seed=size + i)
            h.theirs.send_text(text)
            sent.append((TheirOpcode.TEXT, text))
    h.deliver(h.from_peer())
    assert their_messages(h) == sent
