"""``Connection.send_complete``: the same as sending the head, the body and the end."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.servers.protocol import (
    END_OF_MESSAGE,
    Connection,
    Data,
    LocalProtocolError,
    Response,
    Role,
)

_DATE = re.compile(rb"date: [^\r]*")

_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n",  # body not read yet
    b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
]
_NAMES = [b"content-length", b"Content-Type", b"connection", b"transfer-encoding", b"date", b"bad name"]  # fmt: skip
_VALUES = [b"0", b"5", b"13", b"close", b"chunked", b"text/plain", b"a\r\nb", b""]


def _conn(raw: bytes) -> Connection:
    conn = Connection(Role.SERVER)
    conn.receive_data(raw)
    conn.next_event()
    conn.next_event()
    return conn


def _state(conn: Connection) -> tuple[Any, ...]:
    return (conn.our_state, conn.their_state, conn.keep_alive, conn.request_method)


def _outcome(send: Any) -> Any:
    try:
        return ("ok", _DATE.sub(b"date: X", send()))
    except LocalProtocolError as exc:
        return ("LocalProtocolError", str(exc))


def three_sends(conn: Connection, event: Response, body: bytes) -> bytes:
    out = conn.send(event)
    if body:
        out += conn.send(Data(body))
    return out + conn.send(END_OF_MESSAGE)


@settings(max_examples=400, deadline=None)
@given(
    raw=st.sampled_from(_REQUESTS),
    status=st.sampled_from([200, 204, 304, 404, 99]),
    headers=st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=3),
    body=st.sampled_from([b"", b"hello", b"Hello, world!"]),
)
def test_send_complete_is_the_three_sends(
    raw: bytes, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    one, three = _conn(raw), _conn(raw)
    event = Response(status, headers)
    got = _outcome(lambda: one.send_complete(event, body))
    want = _outcome(lambda: three_sends(three, event, body))
    if want[0] == "ok":
        assert got == want
    else:  # same error; the three sends stop where it rose, the head may be accepted
        assert got[0] == want[0] and got[1] == want[1]
    assert _state(one) == _state(three)


def test_send_complete_ends_a_keep_alive_cycle() -> None:
    conn = _conn(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n")
    out = conn.send_complete(Response(200, [(b"content-length", b"2")]), b"ok")
    assert out.startswith(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n") and out.endswith(
        b"\r\n\r\nok"
    )
    assert conn.next_event().target == b"/next"  # the pipelined request is next


def test_send_complete_refuses_other_events() -> None:
    conn = _conn(_REQUESTS[0])
    try:
        conn.send_complete(Data(b"x"), b"")  # type: ignore[arg-type]
    except LocalProtocolError as exc:
        assert "needs a Response" in str(exc)
    else:
        raise AssertionError("send_complete took a Data event")
    assert conn.send(Response(200, [])).startswith(b"HTTP/1.1 200")  # nothing changed
