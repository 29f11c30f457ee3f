"""The thread worker: parked connections, slow clients and unread bodies do not hold threads."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

PROBE = "tests.servers.prefork.apps.prefork_probe:app"

pytestmark = pytest.mark.slow


def connect(url: str) -> socket.socket:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


@pytest.fixture
def one_thread(serve) -> Iterator[str]:
    with serve("prefork", PROBE, "-k", "thread", "--threads", "1", "--keep-alive", "30") as url:
        yield url


def test_slow_and_idle_clients_do_not_hold_the_only_thread(one_thread: str) -> None:
    held = []
    try:
        for _ in range(5):  # request heads that never complete
            s = connect(one_thread)
            s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        for _ in range(5):  # bodies that never complete
            s = connect(one_thread)
            s.sendall(b"POST /pid HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
            held.append(s)
        for _ in range(5):  # idle keep-alive connections
            s = connect(one_thread)
            s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200 OK")
            held.append(s)
        for _ in range(3):
            assert httpx.get(one_thread + "/pid", timeout=10).status_code == 200
        # A slow body completes later and is then served.
        held[5].sendall(b"x" * 90)
        assert held[5].recv(65536).startswith(b"HTTP/1.1 200 OK")
    finally:
        for s in held:
            s.close()


def test_an_unread_body_above_the_drain_cap_closes_the_connection(one_thread: str) -> None:
    with connect(one_thread) as s:
        body = b"z" * (2 * 1024 * 1024)  # above the gather limit: streamed, never read
        s.sendall(b"POST /pid HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
        try:
            s.sendall(body)
        except OSError:
            pass  # the server may close before taking it all
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert httpx.get(one_thread + "/pid", timeout=10).status_code == 200


def test_keep_alive_reuses_the_connection(one_thread: str) -> None:
    with connect(one_thread) as s:
        for _ in range(3):
            s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = s.recv(65536)
            assert reply.startswith(b"HTTP/1.1 200 OK")
            assert b"connection: close" not in reply.lower()
        # Pipelined requests are answered in order on the same connection.
        s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
        data = b""
        while data.count(b"HTTP/1.1 200 OK") < 2:
            data += s.recv(65536)


def test_sync_keep_alive_is_opt_in(serve) -> None:
    with serve("prefork", PROBE, "--sync-keep-alive") as url, connect(url) as s:
        for _ in range(2):
            s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"connection: close" not in s.recv(65536).lower()
    with serve("prefork", PROBE) as url, connect(url) as s:
        s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"connection: close" in s.recv(65536).lower()
