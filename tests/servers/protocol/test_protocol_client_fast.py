"""The client fast path agrees with the generic client-role Connection, response by response."""

from __future__ import annotations

import pytest

from bench.servers.protocol import (
    END_OF_MESSAGE,
    NEED_DATA,
    PAUSED,
    Connection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    InformationalResponse,
    RemoteProtocolError,
    Request,
    Response,
    Role,
)
from bench.servers.protocol.client_fast import HeadCache, ResponseReader
from bench.servers.protocol.limits import Limits

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: Tue, 24 Nov 2026 22:09:39 GMT\r\n\r\nhello"

#: (name, method, response bytes, closes after them) — every one valid.
VALID = [
    ("content-length", b"GET", OK, False),
    ("empty body", b"GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("no reason", b"GET", b"HTTP/1.1 404\r\ncontent-length: 3\r\n\r\nnop", False),
    (
        "chunked",
        b"GET",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        False,
    ),
    (
        "chunked with trailer",
        b"GET",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
        False,
    ),
    ("until close", b"GET", b"HTTP/1.1 200 OK\r\n\r\nbody until close", True),
    ("http/1.0", b"GET", b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", False),
    (
        "connection close",
        b"GET",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
        False,
    ),
    ("HEAD", b"HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", False),
    ("204", b"GET", b"HTTP/1.1 204 No Content\r\n\r\n", False),
    ("304", b"GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", False),
    ("100 first", b"GET", b"HTTP/1.1 100 Continue\r\n\r\n" + OK, False),
    ("blank lines first", b"GET", b"\r\n\r\n" + OK, False),
]

#: (name, response bytes) — every one refused.
INVALID = [
    ("garbage", b"THIS IS NOT HTTP\r\n\r\n"),
    ("bad version", b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ("space before colon", b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"),
    ("cl and te", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("two lengths", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc"),
    ("bad chunk", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    ("extra bytes", OK + b"EXTRA"),
    ("101 not asked for", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
]


def generic(method: bytes, data: bytes, closes: bool) -> tuple[int, bytes, bool]:
    """What the generic Connection makes of ``data``: status, body, keep-alive."""
    conn = Connection(Role.CLIENT)
    conn.send(Request(method, b"/", [(b"host", b"x")]))
    conn.send(END_OF_MESSAGE)
    conn.receive_data(data)
    if closes:
        conn.receive_data(b"")
    status, body = 0, b""
    while True:
        event = conn.next_event()
        if isinstance(event, Response):
            status = event.status_code
        elif isinstance(event, Data):
            body += event.data
        elif event in (NEED_DATA, PAUSED) or isinstance(event, ConnectionClosed):
            break
        elif isinstance(event, InformationalResponse):
            continue
        elif isinstance(event, EndOfMessage):
            break
    return status, body, conn.keep_alive


def fast(
    method: bytes,
    data: bytes,
    closes: bool,
    *,
    step: int | None = None,
    cache: HeadCache | None = None,
) -> tuple[int, bytes, bool]:
    """What the fast reader makes of ``data`` fed whole or ``step`` bytes at a time."""
    reader = ResponseReader(cache or HeadCache(method), keep_body=True)
    pieces = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    done = False
    for piece in pieces:
        assert not done, "bytes after a complete response were not refused"
        done = reader.feed(piece)
    if closes and not done:
        done = reader.feed_eof()
    assert done
    assert reader.body is not None
    assert reader.body_length == len(reader.body)
    return reader.status, reader.body, reader.keep_alive


@pytest.mark.parametrize(("name", "method", "data", "closes"), VALID, ids=[v[0] for v in VALID])
@pytest.mark.parametrize("step", [None, 1, 7])
def test_fast_path_agrees_with_the_core(
    name: str, method: bytes, data: bytes, closes: bool, step: int | None
) -> None:
    assert fast(method, data, closes, step=step) == generic(method, data, closes)


@pytest.mark.parametrize(("name", "data"), INVALID, ids=[v[0] for v in INVALID])
def test_what_the_core_refuses_is_refused(name: str, data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        fast(b"GET", data, False)


def test_a_refused_head_is_refused_every_time() -> None:
    cache = HeadCache(b"GET")
    for _ in range(3):
        with pytest.raises(RemoteProtocolError):
            ResponseReader(cache).feed(b"THIS IS NOT HTTP\r\n\r\n")


def test_a_cached_head_gives_the_same_answer() -> None:
    cache = HeadCache(b"GET")
    reader = ResponseReader(cache, keep_body=True)
    for _ in range(3):
        assert reader.feed(OK)
        assert (reader.status, reader.body, reader.keep_alive) == (200, b"hello", True)


def test_the_cache_is_bounded() -> None:
    cache = HeadCache(b"GET", size=4)
    reader = ResponseReader(cache)
    for i in range(10):
        assert reader.feed(b"HTTP/1.1 200 OK\r\nX-I: %d\r\nContent-Length: 0\r\n\r\n" % i)
    assert len(cache._heads) <= 4


def test_body_is_counted_but_not_kept_by_default() -> None:
    reader = ResponseReader(HeadCache(b"GET"))
    assert reader.feed(OK)
    assert reader.body is None
    assert reader.body_length == 5


def test_eof_inside_a_body_is_refused() -> None:
    reader = ResponseReader(HeadCache(b"GET"))
    assert not reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
    with pytest.raises(RemoteProtocolError):
        reader.feed_eof()


def test_eof_inside_a_head_is_refused() -> None:
    reader = ResponseReader(HeadCache(b"GET"))
    assert not reader.feed(b"HTTP/1.1 200 OK\r\nContent-Le")
    with pytest.raises(RemoteProtocolError):
        reader.feed_eof()


def test_eof_with_nothing_received_is_not_a_response() -> None:
    assert ResponseReader(HeadCache(b"GET")).feed_eof() is False


def test_an_endless_head_hits_the_limit() -> None:
    reader = ResponseReader(HeadCache(b"GET", Limits(max_request_line=64, max_header_bytes=256)))
    reader.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(RemoteProtocolError):
        for _ in range(100):
            reader.feed(b"X-Filler: 0123456789\r\n")


def test_keep_alive_is_off_when_the_server_closes() -> None:
    reader = ResponseReader(HeadCache(b"GET"))
    assert reader.feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert reader.keep_alive is False


def test_a_head_that_extends_the_last_one_is_judged_afresh() -> None:
    reader = ResponseReader(HeadCache(b"GET"), keep_body=True)
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    longer = b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + b"x" * 50
    closing = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    for data, length, keep_alive in [
        (first, 5, True),
        (longer, 50, True),
        (first, 5, True),
        (closing, 5, False),
    ]:
        assert reader.feed(data)
        assert (reader.body_length, reader.keep_alive) == (length, keep_alive)
