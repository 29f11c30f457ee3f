"""Helpers shared by the HTTP/1.1 server-role tests (imported as ``http11_testkit``)."""

from __future__ import annotations

from bench.servers.protocol import NEED_DATA, PAUSED, Connection, ConnectionClosed, Request, Role

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


def events_until_signal(conn: Connection) -> list[object]:
    """Every event ``next_event`` gives, up to and including NEED_DATA or PAUSED."""
    out: list[object] = []
    while True:
        event = conn.next_event()
        out.append(event)
        if event is NEED_DATA or event is PAUSED or isinstance(event, ConnectionClosed):
            return out


def served(raw: bytes, **kwargs: object) -> Connection:
    """A server connection that has parsed the complete request ``raw``."""
    conn = Connection(Role.SERVER, **kwargs)  # type: ignore[arg-type]
    conn.receive_data(raw)
    events = events_until_signal(conn)
    assert isinstance(events[0], Request)
    assert events[-1] is PAUSED
    return conn


def split_response(data: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    """Status line, header pairs (names lower-cased) and body of one serialized response."""
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    pairs = []
    for line in lines:
        name, _, value = line.partition(b": ")
        pairs.append((name.lower(), value))
    return status, pairs, body


def header(pairs: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [v for n, v in pairs if n == name]


def respond(conn: Connection, *events: object) -> bytes:
    return b"".join(conn.send(e) for e in events)  # type: ignore[arg-type]
