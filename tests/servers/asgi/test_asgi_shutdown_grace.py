"""Graceful shutdown and connections between requests: which are closed, which are served.

A connection that has not sent (all of) its first request when SIGTERM arrives is
served once, with ``Connection: close``: its client is likely sending it right now. An
idle keep-alive connection is closed after a short grace (a request arriving within it
is served with ``Connection: close``); with part of a new request there, it is served.
"""

from __future__ import annotations

import signal
import socket

import psutil
from asgi_testing import APPS_ENV, address, connect, read_one_response, read_until_closed
from serverkit import wait_until

_REQUEST = b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"


def _accepted(url, socks: list[socket.socket]) -> bool:
    """True once the server process has accepted every one of ``socks``."""
    ours = {s.getsockname() for s in socks}
    try:
        conns = psutil.Process(url.process.pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return False
    theirs = {(c.raddr.ip, c.raddr.port) for c in conns if c.raddr}
    return ours <= theirs


def _refused(url: str) -> bool:
    try:
        socket.create_connection(address(url), timeout=1).close()
    except OSError:
        return True
    return False


def _served_once_then_closed(sock: socket.socket) -> None:
    reply = read_one_response(sock)
    assert reply.status == 200
    assert reply.headers[b"connection"] == b"close"
    assert read_until_closed(sock) == b""


def test_connections_waiting_for_a_request_are_served_once_during_shutdown(serve) -> None:
    with serve("eventloop", "asgi_test_apps:raw", env=APPS_ENV) as url:
        fresh = connect(url, timeout=10)  # nothing sent yet
        partial = connect(url, timeout=10)  # part of its first request head
        partial.sendall(_REQUEST[:20])
        served = connect(url, timeout=10)  # served once, then part of a second request
        served.sendall(_REQUEST)
        assert read_one_response(served).status == 200
        served.sendall(_REQUEST[:20])
        idle = connect(url, timeout=10)  # served once, nothing more: idle keep-alive
        idle.sendall(_REQUEST)
        assert read_one_response(idle).status == 200
        socks = [fresh, partial, served, idle]
        assert wait_until(lambda: _accepted(url, socks), 10)

        url.signal(signal.SIGTERM)
        assert read_until_closed(idle) == b""  # closed after a short grace
        assert wait_until(lambda: _refused(url), 10)  # no longer accepting

        fresh.sendall(_REQUEST)
        _served_once_then_closed(fresh)
        partial.sendall(_REQUEST[20:])
        _served_once_then_closed(partial)
        served.sendall(_REQUEST[20:])
        _served_once_then_closed(served)
        assert url.server.wait(15) == 0
        for sock in socks:
            sock.close()
        assert "Traceback" not in url.log()


def test_a_connection_that_never_sends_is_closed_at_its_header_read_deadline(serve) -> None:
    with serve(
        "eventloop", "asgi_test_apps:raw", "--timeout-header-read", "1", env=APPS_ENV
    ) as url:
        silent = connect(url, timeout=15)
        assert wait_until(lambda: _accepted(url, [silent]), 10)
        url.signal(signal.SIGTERM)
        assert wait_until(lambda: _refused(url), 10)
        assert read_until_closed(silent) == b""
        assert url.server.wait(15) == 0
        silent.close()
