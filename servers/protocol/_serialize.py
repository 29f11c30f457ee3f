"""Heads we send: validated serialization and the body framing each head announces.

Pure functions: each takes an event plus what the connection knows (request method,
peer version, persistence) and returns the bytes, the body writer and the persistence
that follows. They raise LocalProtocolError before anything is decided, so a refused
event leaves the connection as it was.

Response framing (server role): a Content-Length given by the application is used;
otherwise chunked for an HTTP/1.1 peer, close-delimited for HTTP/1.0 (or after a
protocol error); no body at all for HEAD, 204 and 304. ``Date`` and ``Server`` are
added when absent, ``Connection: close`` when the connection will close.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from bench.servers.protocol import _abnf
from bench.servers.protocol._body import (
    ChunkedWriter,
    ContentLengthWriter,
    NoBodyWriter,
    UntilCloseWriter,
    Writer,
)
from bench.servers.protocol._fields import check_field, comma_tokens
from bench.servers.protocol._heads import NO_BODY_STATUS
from bench.servers.protocol.errors import LocalProtocolError
from bench.servers.protocol.events import InformationalResponse, Request, Response

_STATUS_LINES: dict[int, bytes] = {
    s.value: b"HTTP/1.1 %d %b\r\n" % (s.value, s.phrase.encode("ascii")) for s in HTTPStatus
}
_CONTENT_LENGTH = _abnf.CONTENT_LENGTH.fullmatch
_CONTENT_LENGTH_NAME = b"content-length"
_CHUNKED = b"chunked"
#: The connection line of a response head, by (keep-alive, the peer is HTTP/1.0).
CONNECTION_LINES: dict[tuple[bool, bool], bytes] = {
    (True, False): b"",
    (True, True): b"connection: keep-alive\r\n",
    (False, False): b"connection: close\r\n",
    (False, True): b"connection: close\r\n",
}
#: Response fields the framing decides about (the rest are written as given).
_INTERPRETED = frozenset(
    {b"content-length", b"transfer-encoding", b"connection", b"date", b"server"}
)
_DAYS = (b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun")
_MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")  # fmt: skip


def http_date(seconds: float) -> bytes:
    """IMF-fixdate (RFC 9110 §5.6.7), e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    t = time.gmtime(seconds)
    return b"%b, %02d %b %04d %02d:%02d:%02d GMT" % (
        _DAYS[t.tm_wday],
        t.tm_mday,
        _MONTHS[t.tm_mon - 1],
        t.tm_year,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
    )


class _DateCache:
    """The ``Date`` value, formatted at most once per second.

    ``tail`` also caches, per second, the whole end of a response head that adds
    ``date``, ``server`` and maybe ``connection`` lines, since most responses end alike.
    """

    __slots__ = ("_second", "_tails", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = b""
        self._tails: dict[tuple[bytes | None, bytes], bytes] = {}

    def get(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._value = http_date(now)
            self._second = now
            self._tails = {}
        return self._value

    def tail(self, server_header: bytes | None, connection: bytes) -> bytes:
        """``date: …\r\n`` [``server: …\r\n``] ``connection`` ``\r\n`` (the blank line)."""
        now = int(time.time())
        if now == self._second:
            found = self._tails.get((server_header, connection))
            if found is not None:
                return found
        date = self.get()
        if server_header:
            value = b"date: %b\r\nserver: %b\r\n%b\r\n" % (
                date,
                server_header,
                connection,
            )
        else:
            value = b"date: %b\r\n%b\r\n" % (date, connection)
        if len(self._tails) < 16:  # a few server headers per process at most
            self._tails[(server_header, connection)] = value
        return value


_DATE = _DateCache()

#: Header pairs already sent and found valid → (lower-cased name if the framing reads
#: it, else None; the serialized line). Most responses repeat the same few pairs, so
#: this skips validating and formatting them again. Bounded: cleared when full.
#: Only content-length, date and server among the interpreted names are stored (the
#: others are not written as given).
_LINES: dict[tuple[bytes, bytes], tuple[bytes | None, bytes]] = {}
_LINES_MAX = 512

#: The C accelerator's field writer (``_accel``), or None for the pure-Python loop.
_fast_fields: Callable[[Any], tuple[bytes, bytes | None, bool, bool] | None] | None = None


def set_fast_fields(
    function: Callable[[Any], tuple[bytes, bytes | None, bool, bool] | None] | None,
) -> None:
    """Install (or, with None, remove) the C writer of a response head's fields."""
    global _fast_fields
    _fast_fields = function


def status_line(status: int, reason: bytes) -> bytes:
    """``HTTP/1.1 <status> <reason>\\r\\n``; the standard phrase when ``reason`` is empty."""
    if not reason:
        line = _STATUS_LINES.get(status)
        if line is not None:
            return line
    elif _abnf.REASON.fullmatch(reason) is None:
        raise LocalProtocolError(f"invalid reason phrase {reason!r}")
    return b"HTTP/1.1 %d %b\r\n" % (status, reason)


def response_head(
    event: Response,
    method: bytes | None,
    peer_version: bytes,
    keep_alive: bool,
    can_chunk: bool,
    server_header: bytes | None,
) -> tuple[bytes, Writer, bool]:
    """Serialize a final response head; returns (bytes, body writer, keep-alive).

    ``can_chunk``: the peer is HTTP/1.1 and its request was well-formed, so a body of
    unknown length may be chunked (otherwise it is delimited by closing).
    """
    status = event.status_code
    if type(status) is not int or not 200 <= status <= 999:
        raise LocalProtocolError(f"final responses need a status of 200-999, not {status!r}")
    parts = [status_line(status, event.reason)]
    length: bytes | None = None
    te: bytes | None = None
    length_at = -1
    has_date = has_server = False
    fast = _fast_fields(event.headers) if _fast_fields is not None else None
    if fast is not None and (fast[1] is None or status != 204):
        # The C accelerator checked and wrote every line (it refuses, with None, any
        # field the loop below treats specially: Transfer-Encoding, Connection, ...).
        lines, length, has_date, has_server = fast
        parts.append(lines)
    else:
        cached = _LINES.get
        for pair in event.headers:
            try:
                hit = cached(pair)
            except TypeError:  # unhashable: not a pair of bytes
                hit = None
            if hit is not None:  # a pair sent before, checked then
                lname, line = hit
                if lname is not None:
                    if lname == b"content-length":
                        if length is not None:
                            raise LocalProtocolError(f"invalid Content-Length {pair[1]!r}")
                        length = pair[1]
                        length_at = len(parts)
                    elif lname == b"date":
                        has_date = True
                    else:
                        has_server = True
                parts.append(line)
                continue
            name, value = pair
            check_field(name, value)
            lname = name.lower()
            interpreted = lname in _INTERPRETED
            if interpreted:
                if lname == b"content-length":
                    if length is not None or _CONTENT_LENGTH(value) is None:
                        raise LocalProtocolError(f"invalid Content-Length {value!r}")
                    length = value
                    length_at = len(parts)
                elif lname == b"transfer-encoding":
                    if comma_tokens([value]) != [_CHUNKED]:
                        raise LocalProtocolError(f"unsupported Transfer-Encoding {value!r}")
                    te = value
                    continue  # written below, as the framing requires
                elif lname == b"connection":
                    if b"close" in comma_tokens([value]):
                        keep_alive = False
                    continue  # written below, once
                elif lname == b"date":
                    has_date = True
                else:
                    has_server = True
            line = b"%b: %b\r\n" % (name, value)
            parts.append(line)
            if type(name) is bytes and type(value) is bytes:
                if len(_LINES) >= _LINES_MAX:
                    _LINES.clear()
                _LINES[(name, value)] = (lname if interpreted else None, line)

    if method == b"CONNECT" and status < 300:
        keep_alive = False  # a 2xx makes a tunnel, which this core does not offer
    writer: Writer
    if status in NO_BODY_STATUS or method == b"HEAD":
        writer = NoBodyWriter(discard=method == b"HEAD")
        if status == 204 and length_at >= 0:
            del parts[length_at]  # RFC 9110 §8.6: no Content-Length in a 204
    elif length is not None:
        if te is not None:
            raise LocalProtocolError("both Content-Length and Transfer-Encoding")
        writer = ContentLengthWriter(int(length))
    elif can_chunk:
        writer = ChunkedWriter()
        parts.append(b"transfer-encoding: chunked\r\n")
    else:
        writer = UntilCloseWriter()
        keep_alive = False

    connection = CONNECTION_LINES[keep_alive, peer_version == b"1.0"]
    if has_date or has_server:
        if not has_date:
            parts.append(b"date: %b\r\n" % _DATE.get())
        if not has_server and server_header:
            parts.append(b"server: %b\r\n" % server_header)
        parts.append(connection)
        parts.append(b"\r\n")
    else:
        parts.append(_DATE.tail(server_header, connection))
    return b"".join(parts), writer, keep_alive


def has_content_length(headers: Any) -> bool:
    """Whether ``headers`` (name, value pairs) carry a Content-Length, in any case."""
    for name, _value in headers:
        if name == _CONTENT_LENGTH_NAME or name.lower() == _CONTENT_LENGTH_NAME:
            return True
    return False


def whole_headers(status: int, method: bytes | None, headers: Any, length: int) -> Any:
    """The headers of a final response whose whole body, ``length`` bytes, is known.

    A Content-Length of ``length`` is added at the end unless the headers carry one or
    the response has no body (an answer to HEAD, 204, 304); else ``headers`` as given.
    """
    if status in NO_BODY_STATUS or method == b"HEAD" or has_content_length(headers):
        return headers
    return [*headers, (_CONTENT_LENGTH_NAME, b"%d" % length)]


def informational_head(event: InformationalResponse) -> bytes:
    """Serialize a 1xx head (no body, no framing)."""
    status = event.status_code
    if type(status) is not int or not 100 <= status <= 199:
        raise LocalProtocolError(f"informational responses need a 1xx status, not {status!r}")
    parts = [status_line(status, event.reason)]
    for name, value in event.headers:
        check_field(name, value)
        parts.append(b"%b: %b\r\n" % (name, value))
    parts.append(b"\r\n")
    return b"".join(parts)


def request_head(event: Request) -> tuple[bytes, Writer, bool, bool]:
    """Serialize a request head; returns (bytes, body writer, keep-alive, asks to upgrade).

    The body framing is the one the headers announce: chunked, a Content-Length, or
    none (no body may follow).
    """
    method, target, version = event.method, event.target, event.http_version
    if not _matches(_abnf.FIELD_NAME, method):
        raise LocalProtocolError(f"invalid method {method!r}")
    if not _matches(_abnf.TARGET, target):
        raise LocalProtocolError(f"invalid request target {target!r}")
    if version != b"1.1" and version != b"1.0":
        raise LocalProtocolError(f"cannot send HTTP/{version!r} requests")
    parts = [b"%b %b HTTP/%b\r\n" % (method, target, version)]
    length: bytes | None = None
    te: bytes | None = None
    hosts = 0
    tokens: list[bytes] = []
    upgrade = False
    for name, value in event.headers:
        check_field(name, value)
        lname = name.lower()
        if lname == b"host":
            hosts += 1
        elif lname == b"content-length":
            if length is not None or _CONTENT_LENGTH(value) is None:
                raise LocalProtocolError(f"invalid Content-Length {value!r}")
            length = value
        elif lname == b"transfer-encoding":
            te = value
        elif lname == b"connection":
            tokens += comma_tokens([value])
        elif lname == b"upgrade":
            upgrade = True
        parts.append(b"%b: %b\r\n" % (name, value))
    if hosts > 1 or (hosts == 0 and version == b"1.1"):
        raise LocalProtocolError("HTTP/1.1 requests need exactly one Host header")
    writer: Writer
    if te is not None:
        if length is not None or version == b"1.0" or comma_tokens([te]) != [_CHUNKED]:
            raise LocalProtocolError(f"unsupported Transfer-Encoding {te!r}")
        writer = ChunkedWriter()
    else:
        writer = ContentLengthWriter(int(length) if length is not None else 0)
    if version == b"1.1":
        keep_alive = b"close" not in tokens
    else:
        keep_alive = b"keep-alive" in tokens and b"close" not in tokens
    parts.append(b"\r\n")
    return (
        b"".join(parts),
        writer,
        keep_alive,
        upgrade and b"upgrade" in tokens and version == b"1.1",
    )


def _matches(pattern: re.Pattern[bytes], value: bytes) -> bool:
    try:
        return pattern.fullmatch(value) is not None
    except TypeError:  # not bytes
        return False
