"""Test harness for the WSGI handler: a socket pair, a minimal worker loop, a parser.

``exchange`` writes whole requests to one end of a socket pair, serves the other end
to its end in the calling thread (deterministic; the app's warnings and log lines are
visible to the test), and returns the bytes that came back. ``parse_replies`` reads
them with the protocol core's client role.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.servers.protocol import (
    NEED_DATA,
    Connection,
    Data,
    EndOfMessage,
    InformationalResponse,
    RemoteProtocolError,
    Request,
    Response,
    Role,
)
from bench.servers.wsgi.blocking import WSGIHandler

CLIENT = ("127.0.0.1", 40000)
SERVER = ("127.0.0.1", 8000)


def serve_connection(handler: WSGIHandler, sock: socket.socket) -> None:
    """The smallest worker loop: read bytes, feed the core, respond, until the end."""
    conn = handler.new_connection()
    try:
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                conn.receive_data(sock.recv(65536))
                continue
            if type(event) is not Request:
                return
            next_conn = handler.respond(conn, sock, event, CLIENT, SERVER)
            if next_conn is None:
                return
            conn = next_conn
    except RemoteProtocolError as exc:
        handler.reject(conn, sock, exc)
    except OSError:
        pass
    finally:
        sock.close()


@dataclass
class Reply:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    informational: list[int] = field(default_factory=list)

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


def request_bytes(
    method: str = "GET", target: str = "/", headers: list[tuple[str, str]] = (), body: bytes = b""
) -> bytes:
    lines = [
        f"{method} {target} HTTP/1.1",
        "Host: test.example:8000",
        *(f"{k}: {v}" for k, v in headers),
    ]
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def parse_replies(data: bytes, methods: list[str]) -> list[Reply]:
    """Parse the responses to ``methods`` (in order) from ``data`` with a client Connection."""
    conn = Connection(Role.CLIENT)
    conn.receive_data(data)
    conn.receive_data(b"")
    replies: list[Reply] = []
    for method in methods:
        conn.send(Request(method.encode(), b"/", [(b"host", b"x")]))
        conn.send(EndOfMessage())
        informational: list[int] = []
        head: Response | None = None
        body = b""
        while True:
            event = conn.next_event()
            if type(event) is InformationalResponse:
                informational.append(event.status_code)
            elif type(event) is Response:
                head = event
            elif type(event) is Data:
                body += event.data
            elif type(event) is EndOfMessage:
                break
            else:
                raise AssertionError(f"connection ended early: {event!r}")
        assert head is not None
        replies.append(Reply(head.status_code, head.headers, body, informational))
    return replies


def exchange(app: Callable[..., Any], *requests: bytes, **options: Any) -> tuple[bytes, str]:
    """Send ``requests`` on one connection, serve it to its end; return (response bytes, log)."""
    errors = io.StringIO()
    handler = WSGIHandler(app, errors=errors, **options)
    server, client = socket.socketpair()
    with client:
        client.sendall(b"".join(requests))
        client.shutdown(socket.SHUT_WR)
        serve_connection(handler, server)
        chunks = []
        while data := client.recv(65536):
            chunks.append(data)
    return b"".join(chunks), errors.getvalue()


def replies(app: Callable[..., Any], *requests: bytes, **options: Any) -> list[Reply]:
    data, log = exchange(app, *requests, **options)
    assert log == ""
    methods = [r.split(b" ", 1)[0].decode() for r in requests]
    return parse_replies(data, methods)
