"""The frame codec: masking, serialize/parse round trips, header validation, interop."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Frame as TheirFrame
from websockets.frames import Opcode as TheirOpcode
from websockets.streams import StreamReader

from bench.servers.protocol.websocket.errors import MessageTooBig, WebSocketProtocolError
from bench.servers.protocol.websocket.frames import (
    CONTROL_OPCODES,
    Frame,
    FrameParser,
    Opcode,
    apply_mask,
    serialize_frame,
)

masks = st.binary(min_size=4, max_size=4)


def reference_mask(data: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


@given(st.binary(max_size=3000), masks)
def test_mask_matches_the_bytewise_definition_and_is_an_involution(data: bytes, mask: bytes):
    masked = apply_mask(data, mask)
    assert masked == reference_mask(data, mask)
    assert apply_mask(masked, mask) == data


def test_mask_keeps_leading_and_trailing_zero_bytes():
    data = b"\x00" * 7 + b"\x01" + b"\x00" * 9
    assert apply_mask(apply_mask(data, b"\x00\x00\x00\x00"), b"\x00\x00\x00\x00") == data
    assert len(apply_mask(data, b"\xff\x00\x00\xff")) == len(data)


frames = st.one_of(
    st.builds(
        lambda op, payload, fin, rsv1: Frame(op, payload, fin, rsv1),
        st.sampled_from([Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION]),
        st.one_of(st.binary(max_size=200), st.binary(min_size=65530, max_size=65540)),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(
        lambda op, payload: Frame(op, payload),
        st.sampled_from(sorted(CONTROL_OPCODES)),
        st.binary(max_size=125),
    ),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(frames, min_size=1, max_size=4), st.booleans(), st.integers(1, 70000))
def test_serialize_then_parse_in_any_chunking(batch: list[Frame], masked: bool, chunk: int):
    mask = b"\x12\x34\x56\x78" if masked else None
    wire = b"".join(
        serialize_frame(f.opcode, f.payload, fin=f.fin, rsv1=f.rsv1, mask=mask) for f in batch
    )
    parser = FrameParser(expect_masked=masked, allow_rsv1=True)
    got: list[Frame] = []
    for start in range(0, len(wire), chunk):
        parser.feed(wire[start : start + chunk])
        while (frame := parser.next_frame()) is not None:
            got.append(frame)
    assert got == batch
    assert parser.buffered == 0


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 128, 65535, 65536, 65537])
def test_length_encodings_at_their_boundaries(size: int):
    wire = serialize_frame(Opcode.BINARY, b"a" * size)
    header = {True: 2, size >= 126: 4, size >= 65536: 10}[True]
    assert len(wire) == header + size
    parser = FrameParser(expect_masked=False)
    parser.feed(wire)
    assert parser.next_frame() == Frame(Opcode.BINARY, b"a" * size)


def parse_one(wire: bytes, *, masked: bool = True, **kwargs: object) -> Frame | None:
    parser = FrameParser(expect_masked=masked, **kwargs)  # type: ignore[arg-type]
    parser.feed(wire)
    return parser.next_frame()


M = b"\x01\x02\x03\x04"


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcodes_are_refused(opcode: int):
    with pytest.raises(WebSocketProtocolError) as info:
        parse_one(serialize_frame(opcode, b"x", mask=M))
    assert info.value.close_code == 1002


@pytest.mark.parametrize("bits", [{"rsv1": True}, {"rsv2": True}, {"rsv3": True}])
def test_reserved_bits_are_refused_without_an_extension(bits: dict[str, bool]):
    with pytest.raises(WebSocketProtocolError):
        parse_one(serialize_frame(Opcode.TEXT, b"x", mask=M, **bits))


def test_rsv1_is_accepted_when_an_extension_allows_it_but_rsv2_never():
    frame = parse_one(serialize_frame(Opcode.TEXT, b"x", mask=M, rsv1=True), allow_rsv1=True)
    assert frame is not None and frame.rsv1
    with pytest.raises(WebSocketProtocolError):
        parse_one(serialize_frame(Opcode.TEXT, b"x", mask=M, rsv2=True), allow_rsv1=True)


def test_masking_direction_is_enforced():
    with pytest.raises(WebSocketProtocolError, match="not masked"):
        parse_one(serialize_frame(Opcode.TEXT, b"x"), masked=True)
    with pytest.raises(WebSocketProtocolError, match="masked"):
        parse_one(serialize_frame(Opcode.TEXT, b"x", mask=M), masked=False)


@pytest.mark.parametrize("opcode", sorted(CONTROL_OPCODES))
def test_control_frames_are_short_and_never_fragmented(opcode: Opcode):
    assert parse_one(serialize_frame(opcode, b"p" * 125, mask=M)) is not None
    with pytest.raises(WebSocketProtocolError, match="125"):
        parse_one(serialize_frame(opcode, b"p" * 126, mask=M))
    with pytest.raises(WebSocketProtocolError, match="fragmented"):
        parse_one(serialize_frame(opcode, b"p", fin=False, mask=M))


def test_oversize_frame_is_refused_from_its_header_alone():
    wire = serialize_frame(Opcode.BINARY, b"z" * 5000, mask=M)
    parser = FrameParser(expect_masked=True, max_payload=4096)
    parser.feed(wire[:8])  # header and mask key only: the payload never arrives
    with pytest.raises(MessageTooBig) as info:
        parser.next_frame()
    assert info.value.close_code == 1009


def test_64_bit_length_with_the_high_bit_set_is_refused():
    wire = bytes((0x82, 0x80 | 127)) + (1 << 63).to_bytes(8, "big") + M
    with pytest.raises(WebSocketProtocolError, match="high bit"):
        parse_one(wire)


def test_incomplete_input_asks_for_more_at_every_cut():
    wire = serialize_frame(Opcode.TEXT, b"hello" * 40, mask=M)
    for cut in range(len(wire)):
        parser = FrameParser(expect_masked=True)
        parser.feed(wire[:cut])
        assert parser.next_frame() is None
        parser.feed(wire[cut:])
        assert parser.next_frame() == Frame(Opcode.TEXT, b"hello" * 40)


def their_parse(wire: bytes, *, mask: bool) -> TheirFrame:
    reader = StreamReader()
    reader.feed_data(wire)
    gen = TheirFrame.parse(reader.read_exact, mask=mask)
    try:
        next(gen)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("websockets wanted more bytes")


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([Opcode.TEXT, Opcode.BINARY, Opcode.PING]),
    st.binary(max_size=70000),
    st.booleans(),
)
def test_websockets_reads_our_frames_and_we_read_theirs(
    opcode: Opcode, payload: bytes, masked: bool
):
    if opcode is Opcode.PING:
        payload = payload[:125]
    ours = serialize_frame(opcode, payload, mask=M if masked else None)
    theirs = their_parse(ours, mask=masked)
    assert (int(theirs.opcode), bytes(theirs.data), theirs.fin) == (int(opcode), payload, True)
    wire = TheirFrame(TheirOpcode(int(opcode)), payload).serialize(mask=masked)
    assert parse_one(wire, masked=masked) == Frame(opcode, payload)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 1023, 1024, 1025, 1026, 4095, 65537, 100_003])
def test_mask_at_word_and_cache_boundaries(size: int):
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    mask = b"\x9a\x01\xff\x10"
    assert apply_mask(data, mask) == reference_mask(data, mask)
    assert apply_mask(memoryview(bytearray(data)), mask) == reference_mask(data, mask)
