"""MessageAssembler: fragment rules, size limit, UTF-8 fail-fast, decompression budget."""

from __future__ import annotations

import pytest

from bench.servers.protocol.websocket.deflate import DeflateParams, PerMessageDeflate
from bench.servers.protocol.websocket.errors import (
    InvalidPayload,
    MessageTooBig,
    WebSocketProtocolError,
)
from bench.servers.protocol.websocket.events import BytesMessage, TextMessage
from bench.servers.protocol.websocket.frames import Frame, Opcode
from bench.servers.protocol.websocket.messages import MessageAssembler, _completable

# Completions to try: the second byte's range varies by lead byte (0x80, 0x90 or 0xA0
# starts each allowed range); every later byte is a plain continuation byte.
TAILS = (b"", *(bytes([b]) + b"\x80" * k for b in (0x80, 0x90, 0xA0) for k in range(3)))


def can_become_valid(prefix: bytes) -> bool:
    for tail in TAILS:
        try:
            (prefix + tail).decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def test_prefix_check_agrees_with_the_decoder_on_every_two_byte_prefix():
    for lead in range(0x80, 0x100):
        assert _completable(bytes([lead])) == can_become_valid(bytes([lead])), hex(lead)
        for second in range(0x100):
            prefix = bytes([lead, second])
            assert _completable(prefix) == can_become_valid(prefix), prefix


def test_size_limit_counts_the_whole_message_across_fragments():
    assembler = MessageAssembler(max_size=10, deflate=None)
    assert assembler.feed(Frame(Opcode.BINARY, b"12345", fin=False)) is None
    assert assembler.in_progress
    with pytest.raises(MessageTooBig):
        assembler.feed(Frame(Opcode.CONTINUATION, b"123456", fin=False))


def test_a_message_at_the_limit_is_accepted():
    assembler = MessageAssembler(max_size=10, deflate=None)
    assert assembler.feed(Frame(Opcode.TEXT, b"0123456789")) == TextMessage("0123456789")
    assembler.feed(Frame(Opcode.BINARY, b"01234", fin=False))
    assert assembler.feed(Frame(Opcode.CONTINUATION, b"56789")) == BytesMessage(b"0123456789")
    with pytest.raises(MessageTooBig):
        assembler.feed(Frame(Opcode.TEXT, b"01234567890"))


def test_compressed_message_is_limited_after_inflation():
    params = DeflateParams()
    wire = PerMessageDeflate(params, is_server=False).compress(b"a" * 5000)
    assembler = MessageAssembler(max_size=4999, deflate=PerMessageDeflate(params, is_server=True))
    with pytest.raises(MessageTooBig):
        assembler.feed(Frame(Opcode.BINARY, wire, rsv1=True))


def test_rsv1_rules_for_compressed_messages():
    codec = PerMessageDeflate(DeflateParams(), is_server=True)
    with pytest.raises(WebSocketProtocolError, match="without permessage-deflate"):
        MessageAssembler(None, None).feed(Frame(Opcode.TEXT, b"x", fin=False, rsv1=True))
    assembler = MessageAssembler(None, codec)
    sender = PerMessageDeflate(DeflateParams(), is_server=False)
    assembler.feed(Frame(Opcode.TEXT, sender.compress(b"abc", fin=False), fin=False, rsv1=True))
    with pytest.raises(WebSocketProtocolError, match="continuation"):
        assembler.feed(Frame(Opcode.CONTINUATION, sender.compress(b"def"), rsv1=True))


def test_uncompressed_message_is_allowed_when_deflate_was_negotiated():
    assembler = MessageAssembler(None, PerMessageDeflate(DeflateParams(), is_server=True))
    assert assembler.feed(Frame(Opcode.TEXT, b"plain")) == TextMessage("plain")


def test_invalid_text_in_a_compressed_message_is_1007():
    sender = PerMessageDeflate(DeflateParams(), is_server=False)
    assembler = MessageAssembler(None, PerMessageDeflate(DeflateParams(), is_server=True))
    with pytest.raises(InvalidPayload):
        assembler.feed(Frame(Opcode.TEXT, sender.compress(b"ok \xed\xa0\x80"), rsv1=True))
