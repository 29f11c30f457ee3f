"""Every rejection of the protocol core, over a raw socket: its status, then the connection closes.

The server must answer each malformed request with the core's status and
``Connection: close``, close the connection, log nothing (no traceback per malformed
request), and keep serving everyone else.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from asgi_testing import APPS_ENV, connect, exchange, parse_responses, read_until_closed
from serverkit import ServedURL

LONG = b"a" * 5000
MANY_HEADERS = b"".join(b"x-h%d: v\r\n" % i for i in range(101))

#: (name, raw request bytes, expected status)
CASES: list[tuple[str, bytes, int]] = [
    ("garbage", b"GARBAGE\r\n\r\n", 400),
    ("tls handshake", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    ("lowercase version", b"GET / http/1.1\r\nHost: x\r\n\r\n", 400),
    ("no host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
    ("bare LF in header", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n", 400),
    ("bad content-length", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
    (
        "two content-lengths",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        400,
    ),
    (
        "content-length and chunked",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    (
        "bad chunk size",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "unknown transfer coding",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        501,
    ),
    ("http/2 request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("request line too long", b"GET /" + LONG + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("header too long", b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + LONG * 2 + b"\r\n\r\n", 431),
    ("too many headers", b"GET / HTTP/1.1\r\nHost: x\r\n" + MANY_HEADERS + b"\r\n", 431),
    ("body over the limit", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413),
    (
        "chunked body over the limit",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n" + LONG,
        413,
    ),
]


@pytest.fixture(scope="module")
def url(serve_module) -> Iterator[ServedURL]:
    with serve_module(
        "eventloop", "asgi_test_apps:raw", "--limit-request-body", "1000", env=APPS_ENV
    ) as served:
        yield served


@pytest.mark.parametrize(("name", "request_bytes", "status"), CASES, ids=[c[0] for c in CASES])
def test_rejection(url: ServedURL, name: str, request_bytes: bytes, status: int) -> None:
    data = exchange(url, request_bytes)  # returns only once the server closed
    replies = parse_responses(data, [b"GET"])
    assert len(replies) == 1, data
    assert replies[0].status == status
    assert replies[0].headers[b"connection"] == b"close"


def test_rejection_after_a_good_pipelined_request(url: ServedURL) -> None:
    data = exchange(url, b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\nBROKEN\r\n\r\n")
    replies = parse_responses(data, [b"GET", b"GET"])
    assert [r.status for r in replies] == [200, 400]
    assert replies[0].body == b"raw:/ok"


def test_a_head_cut_short_by_a_half_close_is_answered_400(url: ServedURL) -> None:
    with connect(url) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost:")
        sock.shutdown(1)  # EOF inside the head: the client may still read the refusal
        assert read_until_closed(sock).startswith(b"HTTP/1.1 400 ")


def test_server_keeps_serving_and_logs_nothing(url: ServedURL) -> None:
    for _, request_bytes, _ in CASES:
        exchange(url, request_bytes)
    assert httpx.get(url + "/still-here").text == "raw:/still-here"
    log = url.log()
    assert "Traceback" not in log
    assert "ERROR" not in log
