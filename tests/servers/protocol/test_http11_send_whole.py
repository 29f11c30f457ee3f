"""``Connection.send_whole``: exactly ``send_complete`` of the framed response, on both paths.

The reference is written out here: ``send_complete(Response(status, whole_headers(...),
reason=reason), body)`` on a second connection in the same state. ``send_whole`` must
give the same bytes (the ``Date`` value masked), the same error (type and message) and
leave both connections in the same state, then serve the next request alike. On the C
path, the common response must really be written by the accelerator.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.servers.protocol import (
    Connection,
    LocalProtocolError,
    Response,
    Role,
    _accel,
    http11,
    whole_headers,
)
from tests.servers.protocol.test_http11_accel import _DATE, path

PATHS = [
    False,
    pytest.param(
        True,
        marks=pytest.mark.skipif(not _accel.available(), reason="the C accelerator is not built"),
    ),
]

_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n",  # body not read yet
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
    b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
]
_NEXT = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
_NAMES = [b"content-length", b"Content-Length", b"Content-Type", b"date", b"Server", b"connection", b"transfer-encoding", b"bad name", b"", b"X\x00"]  # fmt: skip
_VALUES = [b"0", b"5", b"05", b"13", b"99999999999999999999", b"close", b"chunked", b"text/plain", b"a\r\nb", b"", b"\xff"]  # fmt: skip
_pair = st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES))
_odd_pair = st.sampled_from([[b"x-a", b"1"], (b"x-a",), (b"x-a", "str"), ("x-a", b"1")])
_headers = st.lists(_pair | _odd_pair, max_size=4) | st.lists(_pair, max_size=4).map(tuple)
_STATUSES = [200, 201, 204, 304, 404, 500, 599, 299, 999, 1000, 199, 101, True, 200.0, "200"]


def _conn(raw: bytes, server_header: bytes | None) -> Connection:
    conn = Connection(Role.SERVER, server_header=server_header)
    conn.receive_data(raw + _NEXT)
    conn.next_event()
    conn.next_event()  # the end of the request, or NEED_DATA when its body is not read
    return conn


def _state(conn: Connection) -> tuple[Any, ...]:
    return (
        conn.our_state,
        conn.their_state,
        conn.keep_alive,
        conn.request_method,
        conn._upgrade_pending,
        conn._expect_continue,
    )


def _outcome(send: Any) -> Any:
    try:
        return ("ok", _DATE.sub(b"date: X", send()))
    except (LocalProtocolError, TypeError, ValueError, AttributeError) as exc:
        return (type(exc).__name__, str(exc))


def reference(conn: Connection, status: Any, headers: Any, body: bytes, reason: bytes) -> bytes:
    framed = whole_headers(status, conn.request_method, headers, len(body))
    return conn.send_complete(Response(status, framed, reason=reason), body)


def _next(conn: Connection) -> Any:
    try:
        return conn.next_event()
    except Exception as exc:  # compared, not handled
        return type(exc).__name__


@pytest.mark.parametrize("fast", PATHS)
@settings(max_examples=600, deadline=None)
@given(
    raw=st.sampled_from(_REQUESTS),
    status=st.sampled_from(_STATUSES),
    headers=_headers,
    body=st.sampled_from([b"", b"hello", b"Hello, world!", b"x" * 99999]),
    reason=st.sampled_from([b"", b"OK", b"Fine"]),
    server_header=st.sampled_from([b"bench", None]),
)
def test_send_whole_is_send_complete_of_the_framed_response(
    fast: bool,
    raw: bytes,
    status: Any,
    headers: Any,
    body: bytes,
    reason: bytes,
    server_header: bytes | None,
) -> None:
    with path(fast):
        one, ref = _conn(raw, server_header), _conn(raw, server_header)
        got = _outcome(lambda: one.send_whole(status, headers, body, reason))
        with path(False):
            want = _outcome(lambda: reference(ref, status, headers, body, reason))
        assert got == want
        assert _state(one) == _state(ref)
        assert repr(_next(one)) == repr(_next(ref))  # the next request is served alike


@pytest.mark.skipif(not _accel.available(), reason="the C accelerator is not built")
def test_the_common_response_is_written_by_the_accelerator(monkeypatch) -> None:
    calls: list[bytes | None] = []
    with path(True):
        real = http11._whole_response
        assert real is not None

        def counted(*args: Any) -> bytes | None:
            calls.append(real(*args))
            return calls[-1]

        monkeypatch.setattr(http11, "_whole_response", counted)
        conn = _conn(_REQUESTS[0], b"bench")
        out = conn.send_whole(200, [(b"content-type", b"text/plain")], b"Hello")
    assert calls == [out]
    assert _DATE.sub(b"date: X", out) == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n"
        b"date: X\r\nserver: bench\r\n\r\nHello"
    )
    assert conn.next_event().target == b"/next"


@pytest.mark.skipif(not _accel.available(), reason="the C accelerator is not built")
def test_the_accelerator_refuses_what_it_does_not_write() -> None:
    from bench.servers.protocol import _hot  # type: ignore[attr-defined]

    line, tail = b"HTTP/1.1 200 OK\r\n", b"date: X\r\n\r\n"
    whole = _hot.whole_response
    assert whole(line, [(b"content-length", b"5")], b"hello", tail) is not None
    assert whole(line, [(b"content-length", b"4")], b"hello", tail) is None  # the reference raises
    assert whole(line, [(b"content-length", b"99999999999999999999")], b"", tail) is None
    for refused in (
        [(b"date", b"x")],
        [(b"Server", b"x")],
        [(b"connection", b"close")],
        [(b"transfer-encoding", b"chunked")],
        [(b"bad name", b"x")],
        [(b"x", b"a\r\nb")],
        [[b"x", b"1"]],
        iter([(b"x", b"1")]),
    ):
        assert whole(line, refused, b"hello", tail) is None
    assert whole(line, [], bytearray(b"hello"), tail) is None  # only bytes
    with pytest.raises(TypeError):
        whole(line, [], b"")


def test_whole_headers_adds_a_length_only_where_the_framing_needs_one() -> None:
    plain = [(b"content-type", b"text/plain")]
    assert whole_headers(200, b"GET", plain, 5) == [*plain, (b"content-length", b"5")]
    assert whole_headers(200, None, (), 0) == [(b"content-length", b"0")]
    for status, method in ((204, b"GET"), (304, b"GET"), (200, b"HEAD")):
        assert whole_headers(status, method, plain, 5) is plain
    given_length = [(b"Content-Length", b"5")]
    assert whole_headers(200, b"GET", given_length, 5) is given_length
