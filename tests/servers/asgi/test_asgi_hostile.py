"""Hostile clients over real sockets: half-closes, and clients that send but never read.

Half-close (RFC 9112 §9.6): a client that shuts down its sending side after its
request still reads; the response must reach it, then the server closes. Checked on
the three shells that run the eventloop HTTP protocol: ASGI (the app still running
when the FIN arrives), ``--interface wsgi``, and ``prefork -k eventloop`` with a WSGI app.

Bounded buffering: a client that pipelines requests (or floods WebSocket pings) and
never reads must make the server stop reading once what it owes the client passes a
bound. Observed as behaviour: the client's send stalls for good (a send makes no
progress at all for seconds) well before it has sent ``FLOOD_BYTES``, and the
server's RSS stays within ``RSS_GROWTH`` of what it was before the flood.
"""

from __future__ import annotations

import socket

import psutil
import pytest
from asgi_testing import connect, parse_responses, read_until_closed
from serverkit import ServedURL

#: The app takes this long, so the FIN always arrives while it is still running.
SLOW_APP = {"BENCH_APP_MS": "300"}
HALF_CLOSE_SHELLS = {
    "asgi": ("eventloop", "io", "--interface", "asgi"),
    "wsgi": ("eventloop", "io", "--interface", "wsgi"),
    "prefork-eventloop-wsgi": ("prefork", "io", "-k", "eventloop", "-w", "1"),
}
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
#: What a flooding client may send in all before it must have stalled.
FLOOD_BYTES = 256 * 1024 * 1024
#: A send that makes no progress for this long has stalled (the server stopped reading).
STALL = 3.0
#: How much the server's RSS may grow while it is flooded.
RSS_GROWTH = 40 * 1024 * 1024


def _half_closed_exchange(url: ServedURL, data: bytes) -> bytes:
    with connect(url, timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return read_until_closed(sock)


@pytest.mark.parametrize("shell", sorted(HALF_CLOSE_SHELLS))
def test_half_close_still_gets_the_responses(serve, shell: str) -> None:
    args = HALF_CLOSE_SHELLS[shell]
    if args[0] == "prefork":
        args = (*args[:1], "bench.servers.apps.io_app:wsgi", *args[2:])
    with serve(*args, env=SLOW_APP) as url:
        replies = parse_responses(_half_closed_exchange(url, GET), [b"GET"])
        assert [r.status for r in replies] == [200]
        # Pipelined requests already received are answered too, in order, then close.
        two = _half_closed_exchange(url, GET + GET.replace(b"/", b"/2", 1))
        assert [r.status for r in parse_responses(two, [b"GET", b"GET"])] == [200, 200]
        # A head cut short by the FIN is refused, not silently dropped.
        cut = _half_closed_exchange(url, b"GET / HTTP/1.1\r\nHost: x\r\n")
        assert cut.startswith(b"HTTP/1.1 400 ")
        # A FIN between requests closes without a byte.
        assert _half_closed_exchange(url, b"") == b""


def _server_rss(url: ServedURL) -> int:
    process = psutil.Process(url.process.pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


def _flood(sock: socket.socket, unit: bytes) -> int:
    """Send ``unit`` over and over without reading; return the bytes sent before a stall."""
    sock.settimeout(STALL)
    block = memoryview(unit * max(1, 65536 // len(unit)))
    sent = 0
    while sent < FLOOD_BYTES:
        try:
            sent += sock.send(block[sent % len(block) :])  # a partial send resumes mid-block
        except TimeoutError:
            return sent
    pytest.fail(f"the server read {FLOOD_BYTES} bytes from a client that never reads")


def _small_buffers() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    return sock


def test_pipelining_without_reading_stops_the_server_reading(serve) -> None:
    with serve("eventloop", "hello") as url:
        before = _server_rss(url)
        with _small_buffers() as sock:
            sock.connect((url.host, url.port))
            padded = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 1000 + b"\r\n\r\n"
            _flood(sock, padded)
            assert _server_rss(url) - before < RSS_GROWTH
        # The server still serves others.
        with connect(url) as other:
            other.sendall(GET.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
            assert parse_responses(read_until_closed(other), [b"GET"])[0].status == 200


def _masked_ping(payload: bytes) -> bytes:
    # FIN + Ping, masked with a zero key (valid: RFC 6455 §5.3 only asks for a key).
    return bytes([0x89, 0x80 | len(payload)]) + b"\x00\x00\x00\x00" + payload


def test_ping_flood_without_reading_stops_the_server_reading(serve) -> None:
    with serve("eventloop", "ws_echo", "--ws-ping-interval", "600") as url:
        before = _server_rss(url)
        with _small_buffers() as sock:
            sock.connect((url.host, url.port))
            sock.settimeout(10)
            sock.sendall(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(1)
                assert chunk, "closed during the handshake"
                head += chunk
            assert head.startswith(b"HTTP/1.1 101 ")
            _flood(sock, _masked_ping(b"p" * 125))
            assert _server_rss(url) - before < RSS_GROWTH
