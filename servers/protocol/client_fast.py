"""Client-role fast path: whole HTTP/1.1 responses out of received bytes, for load engines.

How this works
--------------
A load generator parses the same response millions of times. The generic
``Connection.next_event`` loop costs several event objects per response; this reader
returns one *complete* response at a time (status, body or body length, keep-alive)
and stays exact by delegating every decision to the core:

* A response head is parsed by a real client-role :class:`~servers.protocol.Connection`
  (status line, field grammar, limits, framing and persistence rules). The verdict —
  status, framing, length, keep-alive — is memoised in a bounded :class:`HeadCache`
  keyed by the head's exact bytes. Identical bytes give an identical verdict, so a hit
  is as strict as a parse; heads change when the ``Date`` changes, about once a second.
  Heads the core refuses are never cached (every occurrence raises again).
* Each reader also remembers its last head: a response that starts with the same bytes
  followed by the blank line is judged without slicing or hashing anything.
* Content-Length bodies are sliced; chunked bodies go through the core's
  ``ChunkedReader``; close-delimited bodies end at EOF (``feed_eof``).

Only one request may be outstanding per reader (no pipelining): bytes left over after a
complete response are a protocol error, as they are for ``Connection``.

No I/O here: bytes in, complete responses out.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.servers.protocol._body import ChunkedReader
from bench.servers.protocol._heads import NO_BODY_STATUS
from bench.servers.protocol.errors import RemoteProtocolError
from bench.servers.protocol.events import (
    END_OF_MESSAGE,
    Data,
    InformationalResponse,
    Request,
    Response,
)
from bench.servers.protocol.http11 import Connection, Role
from bench.servers.protocol.limits import Limits

_EMPTY, _LENGTH, _CHUNKED, _UNTIL_CLOSE, _INFORMATIONAL = range(5)
_BLANK = b"\r\n\r\n"
_DEFAULT_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class HeadVerdict:
    """What the core decided about one response head.

    Attributes:
        status: the status code.
        framing: one of the module's framing kinds (empty, length, chunked, until close,
            informational).
        length: the Content-Length (framing "length" only).
        keep_alive: whether the connection may carry another request afterwards.
    """

    status: int
    framing: int
    length: int
    keep_alive: bool


class HeadCache:
    """Parses response heads with the core and memoises the verdicts by exact bytes.

    One cache may be shared by every connection of an engine that sends the same
    method. Args: ``method`` of the requests whose responses are parsed (``HEAD``
    responses have no body), ``limits`` applied by the core, ``size`` the number of
    distinct heads remembered (the cache is emptied when full).
    """

    __slots__ = ("_heads", "_limits", "_method", "_size")

    def __init__(
        self, method: bytes, limits: Limits | None = None, size: int = _DEFAULT_CACHE_SIZE
    ) -> None:
        self._method = method
        self._limits = limits if limits is not None else Limits()
        self._size = size
        self._heads: dict[bytes, HeadVerdict] = {}

    @property
    def limits(self) -> Limits:
        """The limits the core applies."""
        return self._limits

    def verdict(self, head: bytes) -> HeadVerdict:
        """The verdict for ``head`` (without its blank line); RemoteProtocolError if refused."""
        found = self._heads.get(head)
        if found is not None:
            return found
        found = self._parse(head)
        if len(self._heads) >= self._size:
            self._heads.clear()
        self._heads[head] = found
        return found

    def _parse(self, head: bytes) -> HeadVerdict:
        conn = Connection(Role.CLIENT, self._limits)
        conn.send(Request(self._method, b"/", [(b"host", b"client-fast-path")]))
        conn.send(END_OF_MESSAGE)
        conn.receive_data(head + _BLANK)
        event = conn.next_event()
        if type(event) is InformationalResponse:
            return HeadVerdict(event.status_code, _INFORMATIONAL, 0, True)
        if type(event) is not Response:
            raise RemoteProtocolError(f"incomplete response head {head[:60]!r}")
        status = event.status_code
        framing, length = _UNTIL_CLOSE, 0
        if self._method == b"HEAD" or status in NO_BODY_STATUS:
            framing = _EMPTY
        else:
            for name, value in event.headers:
                if name == b"transfer-encoding":
                    framing = _CHUNKED  # the core accepts "chunked" only
                    break
                if name == b"content-length":
                    length = int(value)  # the core validated it (one value, digits)
                    framing = _LENGTH if length else _EMPTY
        return HeadVerdict(status, framing, length, conn.keep_alive)


class ResponseReader:
    """Reads complete responses, one request outstanding at a time.

    After ``feed`` or ``feed_eof`` returns True, the response is in ``status``,
    ``body_length``, ``body`` (``None`` unless ``keep_body``) and ``keep_alive``; the
    reader is then ready for the next response.

    Raises ``RemoteProtocolError`` for anything the core refuses, for a truncated
    response at EOF, and for bytes after a complete response. After an error the
    connection must be closed (call ``reset`` before reusing the object).
    """

    __slots__ = (
        "_buf",
        "_cache",
        "_chunked",
        "_framing",
        "_in_body",
        "_known",
        "_last_head",
        "_last_len",
        "_last_verdict",
        "_parts",
        "_remaining",
        "body",
        "body_length",
        "keep_alive",
        "keep_body",
        "status",
    )

    def __init__(self, cache: HeadCache, *, keep_body: bool = False) -> None:
        self._cache = cache
        self._known = cache._heads.get  # the dict is only ever cleared, never replaced
        self._last_head = b""
        self._last_len = 0
        self._last_verdict: HeadVerdict | None = None
        self.keep_body = keep_body
        self._buf = bytearray()
        self._in_body = False
        self._framing = _EMPTY
        self._remaining = 0
        self._parts: list[bytes] = []
        self._chunked: ChunkedReader | None = None
        self.status = 0
        self.body: bytes | None = None
        self.body_length = 0
        self.keep_alive = True

    def reset(self) -> None:
        """Forget any partial response (for a new connection)."""
        self._buf.clear()
        self._in_body = False
        self._parts = []
        self._chunked = None

    def feed(self, data: bytes) -> bool:
        """Add received bytes; True when a complete response is available."""
        if self._in_body:
            return self._feed_body(data)
        if self._buf:
            self._buf += data
            data = bytes(self._buf)
            self._buf.clear()
        # Hot path: the same head as last time (two memory compares, no allocation).
        end = self._last_len
        if end and data.startswith(self._last_head) and data.startswith(_BLANK, end):
            verdict = self._last_verdict
        else:
            found = self._read_head(data)
            if found is None:
                return False
            verdict, data, end = found
        start = end + 4
        framing = verdict.framing
        self.status = verdict.status
        self.keep_alive = verdict.keep_alive
        if framing == _LENGTH:
            length = verdict.length
            avail = len(data) - start
            if avail == length:
                self.body_length = length
                self.body = data[start:] if self.keep_body else None
                return True
            if avail > length:
                raise RemoteProtocolError("data after a complete response")
            self._framing = _LENGTH
            self._remaining = length
            self.body_length = 0
            self._in_body = True
            return self._feed_body(data[start:])
        if framing == _EMPTY:
            if len(data) > start:
                raise RemoteProtocolError("data after a complete response")
            self.body_length = 0
            self.body = b"" if self.keep_body else None
            return True
        self._framing = framing
        self.body_length = 0
        self._in_body = True
        if framing == _CHUNKED:
            self._chunked = ChunkedReader(self._cache.limits)
        return self._feed_body(data[start:])

    def _read_head(self, data: bytes) -> tuple[HeadVerdict, bytes, int] | None:
        """Find and judge the final response head in ``data`` (skipping 1xx heads).

        Returns the verdict, the bytes it is in and the head's length, or None when the
        head is incomplete (the bytes are buffered).
        """
        while True:
            end = data.find(_BLANK)
            if end <= 0 or data[0] == 0x0D:
                data = self._strip_or_buffer(data)
                if not data:
                    return None
                end = data.find(_BLANK)
            head = data[:end]
            verdict = self._known(head) or self._cache.verdict(head)
            if verdict.framing != _INFORMATIONAL:
                self._last_head = head
                self._last_len = end
                self._last_verdict = verdict
                return verdict, data, end
            data = data[end + 4 :]
            if not data:
                return None

    def _strip_or_buffer(self, data: bytes) -> bytes:
        """Drop blank lines before a status line; buffer an incomplete head (with limits).

        Returns the bytes to parse, or ``b""`` when they were buffered.
        """
        while data[:2] == b"\r\n":
            data = data[2:]
        if data.find(_BLANK) > 0:
            return data
        limits = self._cache.limits
        if len(data) > limits.max_request_line + limits.max_header_bytes:
            raise RemoteProtocolError("response header section too large", 431)
        if data.find(b"\r\n") < 0 and len(data) > limits.max_request_line:
            raise RemoteProtocolError("status line too long")
        self._buf += data
        return b""

    def _feed_body(self, data: bytes) -> bool:
        framing = self._framing
        if framing == _LENGTH:
            n = len(data)
            remaining = self._remaining
            if n > remaining:
                raise RemoteProtocolError("data after a complete response")
            if self.keep_body and n:
                self._parts.append(data)
            self.body_length += n
            self._remaining = remaining - n
            if self._remaining:
                return False
            return self._finish()
        if framing == _CHUNKED:
            buf = self._buf
            buf += data
            reader = self._chunked
            assert reader is not None
            while True:
                event = reader.read(buf)
                if event is None:
                    return False
                if type(event) is Data:
                    self.body_length += len(event.data)
                    if self.keep_body:
                        self._parts.append(event.data)
                    continue
                if buf:
                    raise RemoteProtocolError("data after a complete response")
                self._chunked = None
                return self._finish()
        # until close
        self.body_length += len(data)
        if self.keep_body and data:
            self._parts.append(data)
        return False

    def feed_eof(self) -> bool:
        """The peer closed. True if that completed a close-delimited response.

        Raises RemoteProtocolError if a response was cut short; returns False if no
        response was in progress.
        """
        if self._in_body:
            if self._framing == _UNTIL_CLOSE:
                self.keep_alive = False
                return self._finish()
            raise RemoteProtocolError("connection closed inside a response body")
        if self._buf:
            self._buf.clear()
            raise RemoteProtocolError("connection closed inside a response head")
        return False

    def _finish(self) -> bool:
        self._in_body = False
        if self.keep_body:
            self.body = b"".join(self._parts)
            self._parts = []
        else:
            self.body = None
        return True
