"""Helpers for the eventloop server tests: raw sockets, and responses parsed by the core's client role."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers.protocol import (
    END_OF_MESSAGE,
    NEED_DATA,
    Connection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Request,
    Response,
    Role,
)

APPS_DIR = Path(__file__).resolve().parent
#: Environment that lets a server process import ``asgi_test_apps``.
APPS_ENV = {"PYTHONPATH": str(APPS_DIR)}


@dataclass
class Reply:
    """One parsed response."""

    status: int
    headers: dict[bytes, bytes] = field(default_factory=dict)
    body: bytes = b""


def address(url: str) -> tuple[str, int]:
    """(host, port) of ``http://host:port``."""
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return host.strip("[]"), int(port.rstrip("/"))


def connect(url: str, timeout: float = 5.0) -> socket.socket:
    """A connected TCP socket to the server of ``url``."""
    sock = socket.create_connection(address(url), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Read until the server closes (raises socket.timeout if it never does)."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def exchange(url: str, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes on a new connection and return everything until the server closes."""
    with connect(url, timeout) as sock:
        sock.sendall(data)
        return read_until_closed(sock)


def parse_responses(data: bytes, methods: list[bytes]) -> list[Reply]:
    """Parse the responses to requests with ``methods`` out of raw bytes (core client role)."""
    conn = Connection(Role.CLIENT)
    replies: list[Reply] = []
    conn.receive_data(data)
    conn.receive_data(b"")
    for method in methods:
        conn.send(Request(method, b"/", [(b"host", b"x"), (b"connection", b"keep-alive")]))
        conn.send(END_OF_MESSAGE)
        reply: Reply | None = None
        while True:
            event = conn.next_event()
            if isinstance(event, Response):
                reply = Reply(event.status_code, dict(event.headers))
            elif isinstance(event, Data):
                assert reply is not None
                reply.body += event.data
            elif isinstance(event, EndOfMessage):
                assert reply is not None
                replies.append(reply)
                break
            elif isinstance(event, ConnectionClosed) or event is NEED_DATA:
                return replies
    return replies


def read_one_response(sock: socket.socket, method: bytes = b"GET") -> Reply:
    """Read exactly one response from a keep-alive connection."""
    conn = Connection(Role.CLIENT)
    conn.send(Request(method, b"/", [(b"host", b"x")]))
    conn.send(END_OF_MESSAGE)
    reply: Reply | None = None
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            chunk = sock.recv(65536)
            conn.receive_data(chunk)
            continue
        if isinstance(event, Response):
            reply = Reply(event.status_code, dict(event.headers))
        elif isinstance(event, Data):
            assert reply is not None
            reply.body += event.data
        elif isinstance(event, EndOfMessage):
            assert reply is not None
            return reply
        elif isinstance(event, ConnectionClosed):
            raise ConnectionError("closed before a complete response")
