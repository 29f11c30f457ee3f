"""The serialization and parsing caches never let through what the slow path refuses."""

from __future__ import annotations

import pytest

from bench.servers.protocol import (
    END_OF_MESSAGE,
    Connection,
    LocalProtocolError,
    RemoteProtocolError,
    Response,
    Role,
)

GET = b"GET / HTTP/1.1\r\nHost: a\r\nX-Tag: one\r\n\r\n"
GOOD = [(b"content-type", b"text/plain"), (b"content-length", b"2")]


def _server_with_request(data: bytes = GET) -> Connection:
    conn = Connection(Role.SERVER)
    conn.receive_data(data)
    conn.next_event()
    conn.next_event()
    return conn


def _warm() -> None:
    """Send the good headers often enough that they are cached."""
    for _ in range(3):
        conn = _server_with_request()
        conn.send(Response(200, GOOD))


@pytest.mark.parametrize(
    "bad",
    [
        (b"content-type", b"text/plain\r\nX-Injected: 1"),
        (b"content-type", b"text/\x00plain"),
        (b"content type", b"text/plain"),
        (bytearray(b"content-type"), b"text/plain"),
        ("content-type", b"text/plain"),
        (b"content-type", "text/plain"),
    ],
)
def test_a_bad_header_is_refused_after_good_ones_were_cached(bad) -> None:
    _warm()
    conn = _server_with_request()
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, [bad, (b"content-length", b"2")]))


def test_cached_content_length_still_frames_the_body() -> None:
    _warm()
    conn = _server_with_request()
    conn.send(Response(200, GOOD))
    with pytest.raises(LocalProtocolError):
        conn.send(END_OF_MESSAGE)  # 2 bytes announced, none sent


def test_cached_content_length_duplicate_is_refused() -> None:
    _warm()
    conn = _server_with_request()
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, [*GOOD, (b"content-length", b"2")]))


@pytest.mark.parametrize(
    "line",
    [b"X-Tag : one", b"X-Tag: o\x00ne", b" X-Tag: one", b"X-Tag:\x7fone"],
)
def test_a_bad_header_line_is_refused_after_good_ones_were_cached(line: bytes) -> None:
    for _ in range(3):
        _server_with_request()  # caches the good lines of GET
    conn = Connection(Role.SERVER)
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\n" + line + b"\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as err:
        conn.next_event()
    assert err.value.status_code == 400
