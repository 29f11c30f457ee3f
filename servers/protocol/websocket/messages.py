"""Reassembly of received data frames into messages.

How this works: a message is one TEXT or BINARY frame followed by CONTINUATION frames
until one has FIN set; control frames may come in between (the connection handles
those and never passes them here). For each data frame the assembler checks the
fragmentation rules (no continuation without a message, no new message inside one),
inflates the payload when the message is compressed (RSV1 on its first frame, never on
continuations), counts the message's size against the limit (1009), and for text
feeds an incremental UTF-8 decoder so that invalid text is refused (1007) as soon as a
fragment proves it invalid, not only at the end. An unfragmented, uncompressed frame
takes a short path: one ``decode`` call, no buffering.
"""

from __future__ import annotations

import codecs

from bench.servers.protocol.websocket.deflate import PerMessageDeflate
from bench.servers.protocol.websocket.errors import (
    InvalidPayload,
    MessageTooBig,
    WebSocketProtocolError,
)
from bench.servers.protocol.websocket.events import BytesMessage, Message, TextMessage
from bench.servers.protocol.websocket.frames import Frame, Opcode

_utf8_decoder = codecs.getincrementaldecoder("utf-8")

# Allowed range of the second byte after each lead byte (RFC 3629 section 4); every
# later byte is 0x80-0xBF. The incremental decoder waits for a whole character before
# judging it: these ranges let us refuse an impossible prefix at once (fail fast).
_SECOND_BYTE = {
    **{lead: (0x80, 0xBF) for lead in range(0xC2, 0xE0)},
    0xE0: (0xA0, 0xBF),
    **{lead: (0x80, 0xBF) for lead in range(0xE1, 0xF0)},
    0xED: (0x80, 0x9F),
    0xF0: (0x90, 0xBF),
    0xF1: (0x80, 0xBF),
    0xF2: (0x80, 0xBF),
    0xF3: (0x80, 0xBF),
    0xF4: (0x80, 0x8F),
}


def _completable(pending: bytes) -> bool:
    """True if the incomplete character ``pending`` (1-3 bytes) can still become valid."""
    second = _SECOND_BYTE.get(pending[0])
    if second is None:
        return False
    if len(pending) > 1 and not second[0] <= pending[1] <= second[1]:
        return False
    return all(0x80 <= byte <= 0xBF for byte in pending[2:])


class MessageAssembler:
    """Turns data frames into whole messages for one connection.

    Args:
        max_size: largest message in bytes after decompression (None: no limit).
        deflate: the negotiated permessage-deflate codec, if any.
    """

    __slots__ = ("_compressed", "_decoder", "_parts", "_size", "_text", "deflate", "max_size")

    def __init__(self, max_size: int | None, deflate: PerMessageDeflate | None) -> None:
        self.max_size = max_size
        self.deflate = deflate
        self._text: bool | None = None  # None: no message in progress
        self._compressed = False
        self._size = 0
        self._parts: list[bytes] | list[str] = []
        self._decoder: codecs.IncrementalDecoder | None = None

    @property
    def in_progress(self) -> bool:
        """True between the first and the last frame of a fragmented message."""
        return self._text is not None

    def feed(self, frame: Frame) -> Message | None:
        """Take one data frame; return the message it completes, or None.

        Raises WebSocketProtocolError (1002), InvalidPayload (1007) or MessageTooBig (1009).
        """
        opcode = frame.opcode
        if opcode is Opcode.CONTINUATION:
            if self._text is None:
                raise WebSocketProtocolError("continuation frame without a message to continue")
            if frame.rsv1:
                raise WebSocketProtocolError("RSV1 set on a continuation frame")
        else:
            if self._text is not None:
                raise WebSocketProtocolError("new data frame inside a fragmented message")
            if frame.fin and not frame.rsv1:
                return self._whole(opcode is Opcode.TEXT, frame.payload)
            self._start(opcode is Opcode.TEXT, frame.rsv1)
        payload = frame.payload
        if self._compressed:
            assert self.deflate is not None
            budget = None if self.max_size is None else self.max_size - self._size
            payload = self.deflate.decompress(payload, frame.fin, budget)
        self._size += len(payload)
        if self.max_size is not None and self._size > self.max_size:
            raise MessageTooBig(f"message over the limit of {self.max_size} bytes")
        if self._decoder is not None:
            try:
                text = self._decoder.decode(payload, frame.fin)
            except UnicodeDecodeError as exc:
                raise InvalidPayload("text message is not valid UTF-8") from exc
            pending = self._decoder.getstate()[0]
            if pending and not _completable(pending):
                raise InvalidPayload("text message is not valid UTF-8")
            self._parts.append(text)  # type: ignore[arg-type]
        else:
            self._parts.append(payload)  # type: ignore[arg-type]
        if not frame.fin:
            return None
        return self._finish()

    def _whole(self, text: bool, payload: bytes) -> Message:
        if self.max_size is not None and len(payload) > self.max_size:
            raise MessageTooBig(f"message over the limit of {self.max_size} bytes")
        if not text:
            return BytesMessage(payload)
        try:
            return TextMessage(payload.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidPayload("text message is not valid UTF-8") from exc

    def _start(self, text: bool, compressed: bool) -> None:
        if compressed and self.deflate is None:
            raise WebSocketProtocolError("RSV1 set without permessage-deflate")
        self._text = text
        self._compressed = compressed
        self._size = 0
        self._parts = []
        self._decoder = _utf8_decoder() if text else None

    def _finish(self) -> Message:
        parts = self._parts
        text = self._text
        self._text = None
        self._parts = []
        self._decoder = None
        if text:
            return TextMessage("".join(parts))  # type: ignore[arg-type]
        return BytesMessage(b"".join(parts))  # type: ignore[arg-type]
