"""Body framing: readers turn buffered bytes into Data/EndOfMessage, writers do the reverse.

Readers work on the connection's receive buffer (a ``bytearray``) in place and return
one event, or ``None`` when they need more bytes. ``at_eof`` says what the end of the
stream means for them: the end of a close-delimited body, or a truncated message.
Writers validate what our side sends against the framing it announced; ``passthrough(n)``
accounts for ``n`` body bytes the caller writes itself (``sendfile``) and returns the
framing to write before and after them.
"""

from __future__ import annotations

from bench.servers.protocol import _abnf
from bench.servers.protocol._fields import parse_fields, serialize_fields, split_lines
from bench.servers.protocol.errors import LocalProtocolError, RemoteProtocolError
from bench.servers.protocol.events import END_OF_MESSAGE, Data, EndOfMessage, Headers
from bench.servers.protocol.limits import Limits


class EmptyReader:
    """A message without a body: the end comes at once."""

    __slots__ = ()

    def read(self, buf: bytearray) -> Data | EndOfMessage | None:
        return END_OF_MESSAGE

    def at_eof(self) -> EndOfMessage:
        return END_OF_MESSAGE


class ContentLengthReader:
    """A body of exactly ``length`` bytes."""

    __slots__ = ("remaining",)

    def __init__(self, length: int) -> None:
        self.remaining = length

    def read(self, buf: bytearray) -> Data | EndOfMessage | None:
        remaining = self.remaining
        if remaining == 0:
            return END_OF_MESSAGE
        if not buf:
            return None
        if len(buf) <= remaining:
            data = bytes(buf)
            buf.clear()
        else:
            data = bytes(buf[:remaining])
            del buf[:remaining]
        self.remaining = remaining - len(data)
        return Data(data)

    def at_eof(self) -> EndOfMessage:
        raise RemoteProtocolError(
            f"connection closed with {self.remaining} bytes of body still expected"
        )


class UntilCloseReader:
    """A response body delimited by the end of the connection (client role only)."""

    __slots__ = ()

    def read(self, buf: bytearray) -> Data | EndOfMessage | None:
        if not buf:
            return None
        data = bytes(buf)
        buf.clear()
        return Data(data)

    def at_eof(self) -> EndOfMessage:
        return END_OF_MESSAGE


_SIZE, _DATA, _DATA_CRLF, _TRAILER = range(4)


class ChunkedReader:
    """A chunked body (RFC 9112 §7.1): sizes in strict hex, CRLF after data, trailers."""

    __slots__ = ("_limits", "_remaining", "_scanned", "_state", "_total")

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._state = _SIZE
        self._remaining = 0
        self._total = 0
        self._scanned = 0  # trailer bytes already searched for the blank line

    def read(self, buf: bytearray) -> Data | EndOfMessage | None:
        while True:
            state = self._state
            if state == _DATA:
                if not buf:
                    return None
                remaining = self._remaining
                if len(buf) <= remaining:
                    data = bytes(buf)
                    buf.clear()
                else:
                    data = bytes(buf[:remaining])
                    del buf[:remaining]
                self._remaining = remaining - len(data)
                if self._remaining == 0:
                    self._state = _DATA_CRLF
                return Data(data)
            if state == _SIZE:
                end = buf.find(b"\r\n")
                if end < 0:
                    # A final CR may be the start of the line's CRLF: not counted.
                    if buf and len(buf) - (buf[-1] == 0x0D) > self._limits.max_chunk_line:
                        raise RemoteProtocolError("chunk size line too long")
                    return None
                if end > self._limits.max_chunk_line:
                    raise RemoteProtocolError("chunk size line too long")
                size = _chunk_size(bytes(buf[:end]))
                del buf[: end + 2]
                self._total += size
                limit = self._limits.max_body_size
                if limit is not None and self._total > limit:
                    raise RemoteProtocolError("request body larger than the limit", 413)
                if size == 0:
                    self._state = _TRAILER
                else:
                    self._state = _DATA
                    self._remaining = size
                continue
            if state == _DATA_CRLF:
                if len(buf) < 2:
                    if buf and buf[0] != 0x0D:
                        raise RemoteProtocolError("missing CRLF after chunk data")
                    return None
                if buf[0] != 0x0D or buf[1] != 0x0A:
                    raise RemoteProtocolError("missing CRLF after chunk data")
                del buf[:2]
                self._state = _SIZE
                continue
            # _TRAILER: either an empty line, or trailer fields then an empty line.
            if len(buf) < 2:
                return None
            if buf[0] == 0x0D and buf[1] == 0x0A:
                del buf[:2]
                return END_OF_MESSAGE
            end = buf.find(b"\r\n\r\n", self._scanned)
            if end < 0:
                if len(buf) - 3 > self._limits.max_header_bytes:
                    raise RemoteProtocolError("trailer section too large", 431)
                self._scanned = max(0, len(buf) - 3)
                return None
            if end > self._limits.max_header_bytes:
                raise RemoteProtocolError("trailer section too large", 431)
            block = bytes(buf[:end])
            del buf[: end + 4]
            trailers, _ = parse_fields(split_lines(block), self._limits)
            return EndOfMessage(headers=trailers)

    def at_eof(self) -> EndOfMessage:
        raise RemoteProtocolError("connection closed inside a chunked body")


def _chunk_size(line: bytes) -> int:
    """chunk-size [ chunk-ext ]: 1-16 hex digits, then nothing or well-formed extensions.

    No whitespace around the size (RFC 9112 allows BWS before ``;``: refused here, as
    no client needs it and lenient size parsing is how chunked smuggling starts).
    Extensions are ignored, but must follow RFC 9112 §7.1.1 (token names, token or
    quoted-string values).
    """
    size, semicolon, _ext = line.partition(b";")
    if (
        not size
        or len(size) > _abnf.MAX_CHUNK_SIZE_DIGITS
        or size.translate(None, _abnf.HEXDIG)
        or (semicolon and _abnf.CHUNK_EXT.fullmatch(line, len(size)) is None)
    ):
        raise RemoteProtocolError(f"invalid chunk size line {line[:40]!r}")
    return int(size, 16)


Reader = EmptyReader | ContentLengthReader | UntilCloseReader | ChunkedReader


class ContentLengthWriter:
    """Our body announced by Content-Length: exactly that many bytes, no more, no less."""

    __slots__ = ("remaining",)

    def __init__(self, length: int) -> None:
        self.remaining = length

    def data(self, data: bytes) -> bytes:
        n = len(data)
        if n > self.remaining:
            raise LocalProtocolError("body longer than the Content-Length announced")
        self.remaining -= n
        return data

    def passthrough(self, n: int) -> tuple[bytes, bytes]:
        if n > self.remaining:
            raise LocalProtocolError("body longer than the Content-Length announced")
        self.remaining -= n
        return b"", b""

    def end(self, trailers: Headers) -> bytes:
        if self.remaining:
            raise LocalProtocolError(
                f"body ended {self.remaining} bytes short of the Content-Length announced"
            )
        if trailers:
            raise LocalProtocolError("trailers need a chunked body")
        return b""


class ChunkedWriter:
    """Our body in chunks; an empty Data writes nothing (it would end the body)."""

    __slots__ = ()

    def data(self, data: bytes) -> bytes:
        if not data:
            return b""
        return b"%x\r\n%b\r\n" % (len(data), data)

    def passthrough(self, n: int) -> tuple[bytes, bytes]:
        if not n:
            return b"", b""
        return b"%x\r\n" % n, b"\r\n"

    def end(self, trailers: Headers) -> bytes:
        if not trailers:
            return b"0\r\n\r\n"
        return b"0\r\n" + serialize_fields(trailers) + b"\r\n"


class UntilCloseWriter:
    """Our body delimited by closing the connection (HTTP/1.0 peers, unknown length)."""

    __slots__ = ()

    def data(self, data: bytes) -> bytes:
        return data

    def passthrough(self, n: int) -> tuple[bytes, bytes]:
        return b"", b""

    def end(self, trailers: Headers) -> bytes:
        return b""


class NoBodyWriter:
    """HEAD, 1xx, 204 and 304 responses: no body may follow. HEAD bodies are dropped."""

    __slots__ = ("_discard",)

    def __init__(self, discard: bool) -> None:
        self._discard = discard

    def data(self, data: bytes) -> bytes:
        if data and not self._discard:
            raise LocalProtocolError("this response cannot have a body")
        return b""

    def passthrough(self, n: int) -> tuple[bytes, bytes]:
        # Bytes written past the core cannot be dropped for HEAD: refuse them all.
        if n:
            raise LocalProtocolError("this response cannot have a body")
        return b"", b""

    def end(self, trailers: Headers) -> bytes:
        return b""


Writer = ContentLengthWriter | ChunkedWriter | UntilCloseWriter | NoBodyWriter
