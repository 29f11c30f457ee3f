"""Hostile and unusual clients against the prefork workers, over raw sockets.

Each test starts a real ``bench serve prefork`` on port 0 (the ``serve`` fixture stops
it, and its workers, whatever happens) and asserts what a client sees: pipelined
requests answered in order, a slow head that does not hold the only thread, the
listen backlog served on a graceful stop, a too-large body refused before ``100
Continue``, and ``--limit-request-field-size`` counting like gunicorn.
"""

from __future__ import annotations

import select
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from serverkit import ServedURL, wait_until

PROBE = "tests.servers.prefork.apps.prefork_probe:app"
GET = b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n"
GET_CLOSE = b"GET /pid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
#: Client-side patience: far below the server's I/O timeouts set below, so a server that
#: makes a client wait for one of them fails the test instead of passing slowly.
PATIENCE = 10.0

pytestmark = pytest.mark.slow


def _connect(url: ServedURL) -> socket.socket:
    sock = socket.create_connection((url.host, url.port), timeout=PATIENCE)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _read_responses(sock: socket.socket, count: int) -> bytes:
    """Read until ``count`` complete responses (the probe's are small, with a length)."""
    data = b""
    while data.count(b"HTTP/1.1 ") < count or not data.endswith(_last_body(data)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _last_body(data: bytes) -> bytes:
    head, _, body = data.rpartition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:") and len(body) >= int(line[15:]):
            return body
    return b"\x00never"


@pytest.fixture
def sync_keep_alive(serve) -> Iterator[ServedURL]:
    args = ("prefork", PROBE, "-k", "sync", "--sync-keep-alive", "--keep-alive", "60")
    with serve(*args, "--timeout", "120") as url:
        yield url


def test_sync_keep_alive_answers_pipelined_requests_in_order(sync_keep_alive) -> None:
    with _connect(sync_keep_alive) as sock:
        sock.sendall(GET + GET.replace(b"/pid", b"/pid?second", 1))
        data = _read_responses(sock, 2)
        assert data.count(b"HTTP/1.1 200 OK") == 2
        # The connection is still usable afterwards.
        sock.sendall(GET_CLOSE)
        assert _read_all(sock).startswith(b"HTTP/1.1 200 OK")


def test_a_slow_head_does_not_hold_the_only_sync_worker(serve) -> None:
    with serve("prefork", PROBE, "-k", "sync", "-w", "1", "--timeout", "120") as url:
        held = []
        try:
            for _ in range(8):  # heads that never complete (slowloris)
                s = _connect(url)
                s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n")
                held.append(s)
            for _ in range(4):  # connections that send nothing
                held.append(_connect(url))
            for _ in range(3):
                with _connect(url) as s:
                    s.sendall(GET)
                    assert _read_all(s).startswith(b"HTTP/1.1 200 OK")
            # A slow head that completes later is served.
            held[0].sendall(b"\r\n")
            assert _read_all(held[0]).startswith(b"HTTP/1.1 200 OK")
        finally:
            for s in held:
                s.close()


def test_term_serves_the_listen_backlog_with_connection_close(serve, tmp_path: Path) -> None:
    env = {"PREFORK_PROBE_DIR": str(tmp_path)}
    with serve("prefork", PROBE, "-k", "sync", "-w", "1", env=env) as url:
        busy = _connect(url)
        queued: list[socket.socket] = []
        try:
            busy.sendall(b"GET /sleep?ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert wait_until(lambda: any(tmp_path.iterdir()), PATIENCE)
            for _ in range(5):  # accepted by the kernel, waiting in the backlog
                s = _connect(url)
                s.sendall(GET)
                queued.append(s)
            url.signal(signal.SIGTERM)
            assert _read_all(busy).startswith(b"HTTP/1.1 200 OK")
            for s in queued:
                reply = _read_all(s)
                assert reply.startswith(b"HTTP/1.1 200 OK")
                assert b"\r\nconnection: close\r\n" in reply.lower()
            assert url.server.wait(PATIENCE) == 0
        finally:
            busy.close()
            for s in queued:
                s.close()


@pytest.mark.parametrize("kind", ["sync", "thread", "eventloop"])
def test_limit_request_body_refuses_a_large_body_before_100_continue(serve, kind) -> None:
    with serve("prefork", PROBE, "-k", kind, "--limit-request-body", "1048576") as url:
        with _connect(url) as s:
            s.sendall(
                b"POST /pid HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            reply = _read_all(s)
        assert reply.startswith(b"HTTP/1.1 413 "), reply[:80]
        with _connect(url) as s:  # a body within the limit is served
            s.sendall(b"POST /pid HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            assert _read_all(s).startswith(b"HTTP/1.1 200 OK")


@pytest.mark.parametrize("kind", ["sync", "eventloop"])
def test_limit_request_field_size_counts_the_crlf_like_gunicorn(serve, kind) -> None:
    with serve("prefork", PROBE, "-k", kind, "--limit-request-field-size", "100") as url:

        def status(field_line: bytes) -> bytes:
            with _connect(url) as s:
                s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n" + field_line + b"\r\n\r\n")
                return _read_all(s)[:12]

        name = b"X-Pad: "
        assert status(name + b"p" * (98 - len(name))) == b"HTTP/1.1 200"  # 100 with CRLF
        assert status(name + b"p" * (99 - len(name))) == b"HTTP/1.1 431"  # 101 with CRLF


def test_idle_keep_alive_connections_give_way_at_worker_connections(serve) -> None:
    args = ("-k", "thread", "--threads", "2", "--worker-connections", "3", "--keep-alive", "60")
    with serve("prefork", PROBE, *args, "--timeout", "120") as url:
        idle = []
        try:
            for _ in range(3):  # the cap, reached by idle keep-alive connections
                s = _connect(url)
                s.sendall(GET)
                assert _read_responses(s, 1).startswith(b"HTTP/1.1 200 OK")
                idle.append(s)
            with _connect(url) as newcomer:
                newcomer.sendall(GET_CLOSE)
                assert _read_all(newcomer).startswith(b"HTTP/1.1 200 OK")
            # One idle connection gave way (closed before the newcomer was accepted, so
            # its EOF is already here); the others still serve. Which one is the oldest
            # by the server's clock is not asserted: the order in which the server
            # parked them after their responses is not observable from here.
            readable, _, _ = select.select(idle, [], [], 0)
            assert len(readable) == 1
            assert readable[0].recv(65536) == b""
            for s in idle:
                if s is not readable[0]:
                    s.sendall(GET)
                    assert _read_responses(s, 1).startswith(b"HTTP/1.1 200 OK")
        finally:
            for s in idle:
                s.close()


def _slow_reader(url: ServedURL) -> socket.socket:
    """A client with a tiny receive buffer, so a big response fills the socket at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(PATIENCE)
    sock.connect((url.host, url.port))
    return sock


def test_slow_readers_do_not_hold_the_request_threads(serve) -> None:
    mib = 8
    args = ("-k", "thread", "--threads", "4", "--timeout", "120", "--keep-alive", "60")
    with serve("prefork", PROBE, *args) as url:
        readers = []
        try:
            for _ in range(16):  # ask for big responses, then read nothing
                s = _slow_reader(url)
                s.sendall(b"GET /big?mib=%d HTTP/1.1\r\nHost: x\r\n\r\n" % mib)
                readers.append(s)
            for _ in range(3):  # normal requests are still answered meanwhile
                with _connect(url) as s:
                    s.sendall(GET_CLOSE)
                    assert _read_all(s).startswith(b"HTTP/1.1 200 OK")
            # A slow reader that reads at last gets its whole response.
            first = readers[0]
            data = b""
            while b"\r\n\r\n" not in data:
                data += first.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK")
            assert b"content-length: %d" % (mib << 20) in head.lower()
            body = bytearray(rest)
            while len(body) < mib << 20:
                chunk = first.recv(1 << 20)
                assert chunk, "closed before the whole body"
                body += chunk
            assert body == b"x" * (mib << 20)
            # And the connection is still usable after it.
            first.sendall(GET)
            assert _read_responses(first, 1).startswith(b"HTTP/1.1 200 OK")
        finally:
            for s in readers:
                s.close()


@pytest.mark.parametrize("kind", ["sync", "thread"])
def test_a_half_closed_client_gets_its_responses(serve, kind) -> None:
    with serve("prefork", PROBE, "-k", kind) as url:
        with _connect(url) as s:
            s.sendall(GET + GET)
            s.shutdown(socket.SHUT_WR)  # done sending, still reading (RFC 9112 §9.6)
            data = _read_all(s)
        assert data.count(b"HTTP/1.1 200 OK") == (2 if kind == "thread" else 1)
