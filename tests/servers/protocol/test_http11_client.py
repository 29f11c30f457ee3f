"""The client role of the HTTP/1.1 core: request serialization and response parsing."""

from __future__ import annotations

import pytest

from bench.servers.protocol import (
    END_OF_MESSAGE,
    NEED_DATA,
    PAUSED,
    Connection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    InformationalResponse,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    Response,
    Role,
    State,
)

HOST = (b"host", b"example.com")


def sent(request: Request, *body: bytes) -> Connection:
    """A client connection that has sent ``request`` with ``body`` and its end."""
    conn = Connection(Role.CLIENT)
    conn.send(request)
    for piece in body:
        conn.send(Data(piece))
    conn.send(END_OF_MESSAGE)
    return conn


def receive(conn: Connection, data: bytes, *, bytewise: bool = False) -> list[object]:
    """Feed ``data`` (whole or byte by byte) and collect events, merging Data pieces."""
    events: list[object] = []
    for piece in [data[i : i + 1] for i in range(len(data))] if bytewise else [data]:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            if event is NEED_DATA or event is PAUSED:
                break
            if isinstance(event, Data) and events and isinstance(events[-1], Data):
                events[-1] = Data(events[-1].data + event.data)
            else:
                events.append(event)
            if isinstance(event, ConnectionClosed):
                break
    return events


# ------------------------------------------------------------------- serialization


def test_request_is_written_as_given() -> None:
    conn = Connection(Role.CLIENT)
    out = conn.send(Request(b"GET", b"/p?q=1", [(b"Host", b"example.com"), (b"X-A", b"1")]))
    assert out == b"GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\n\r\n"
    assert conn.our_state is State.SEND_BODY
    assert conn.request_method == b"GET"
    assert conn.send(END_OF_MESSAGE) == b""
    assert conn.our_state is State.DONE


def test_no_framing_header_means_no_body() -> None:
    conn = Connection(Role.CLIENT)
    conn.send(Request(b"POST", b"/", [HOST]))
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"x"))


def test_content_length_body() -> None:
    conn = Connection(Role.CLIENT)
    conn.send(Request(b"POST", b"/", [HOST, (b"content-length", b"5")]))
    assert conn.send(Data(b"hel")) == b"hel"
    with pytest.raises(LocalProtocolError):
        conn.send(END_OF_MESSAGE)
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"lo!"))
    assert conn.send(Data(b"lo")) == b"lo"
    assert conn.send(END_OF_MESSAGE) == b""


def test_chunked_body_with_trailers() -> None:
    conn = Connection(Role.CLIENT)
    conn.send(Request(b"POST", b"/", [HOST, (b"Transfer-Encoding", b"chunked")]))
    out = (
        conn.send(Data(b"abc"))
        + conn.send(Data(b""))
        + conn.send(EndOfMessage(headers=[(b"x-t", b"1")]))
    )
    assert out == b"3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n"


def test_http10_request() -> None:
    conn = Connection(Role.CLIENT)
    out = conn.send(Request(b"GET", b"/", [], http_version=b"1.0"))
    assert out == b"GET / HTTP/1.0\r\n\r\n"
    assert not conn.keep_alive


@pytest.mark.parametrize(
    "request_",
    [
        Request(b"GET", b"/", []),
        Request(b"GET", b"/", [HOST, HOST]),
        Request(b"G T", b"/", [HOST]),
        Request(b"", b"/", [HOST]),
        Request(b"GET", b"", [HOST]),
        Request(b"GET", b"/a b", [HOST]),
        Request(b"GET", b"/a\r\n", [HOST]),
        Request(b"GET", b"/", [HOST], http_version=b"2.0"),
        Request(b"GET", b"/", [HOST, (b"x", b"a\r\nb")]),
        Request(b"GET", b"/", [HOST, (b"x y", b"v")]),
        Request(
            b"POST", b"/", [HOST, (b"content-length", b"1"), (b"transfer-encoding", b"chunked")]
        ),
        Request(b"POST", b"/", [HOST, (b"transfer-encoding", b"gzip")]),
        Request(b"POST", b"/", [(b"transfer-encoding", b"chunked")], http_version=b"1.0"),
        Request(b"POST", b"/", [HOST, (b"content-length", b"-1")]),
        Request(b"POST", b"/", [HOST, (b"content-length", b"1"), (b"content-length", b"1")]),
    ],
)
def test_bad_requests_are_refused(request_: Request) -> None:
    conn = Connection(Role.CLIENT)
    with pytest.raises(LocalProtocolError):
        conn.send(request_)
    assert conn.our_state is State.IDLE


def test_client_cannot_send_responses() -> None:
    conn = Connection(Role.CLIENT)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, []))
    with pytest.raises(LocalProtocolError):
        conn.send(InformationalResponse(100, []))


def test_one_request_at_a_time() -> None:
    conn = sent(Request(b"GET", b"/", [HOST]))
    with pytest.raises(LocalProtocolError):
        conn.send(Request(b"GET", b"/", [HOST]))


# ----------------------------------------------------------------------- responses


@pytest.mark.parametrize("bytewise", [False, True])
def test_content_length_response(bytewise: bool) -> None:
    conn = sent(Request(b"GET", b"/", [HOST]))
    events = receive(
        conn,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
        bytewise=bytewise,
    )
    assert events == [
        Response(200, [(b"content-length", b"5"), (b"x-a", b"1")], b"1.1", b"OK"),
        Data(b"hello"),
        END_OF_MESSAGE,
    ]
    assert (conn.our_state, conn.their_state) == (State.IDLE, State.IDLE)
    assert conn.keep_alive


@pytest.mark.parametrize("bytewise", [False, True])
def test_chunked_response_with_trailers(bytewise: bool) -> None:
    conn = sent(Request(b"GET", b"/", [HOST]))
    events = receive(
        conn,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: done\r\n\r\n",
        bytewise=bytewise,
    )
    assert events == [
        Response(200, [(b"transfer-encoding", b"chunked")], b"1.1", b"OK"),
        Data(b"Wikipedia"),
        EndOfMessage(headers=[(b"x-t", b"done")]),
    ]


def test_read_until_close() -> None:
    conn = sent(Request(b"GET", b"/", [HOST]))
    events = receive(conn, b"HTTP/1.1 200 OK\r\n\r\nsome ")
    events += receive(conn, b"bytes")
    assert not conn.keep_alive
    assert conn.their_state is State.SEND_BODY
    events += receive(conn, b"")
    assert events == [
        Response(200, [], b"1.1", b"OK"),
        Data(b"some "),
        Data(b"bytes"),
        END_OF_MESSAGE,
        ConnectionClosed(),
    ]
    assert conn.their_state is State.CLOSED


def test_http10_response_closes() -> None:
    conn = sent(Request(b"GET", b"/", [HOST]))
    receive(conn, b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert not conn.keep_alive
    assert conn.our_state is State.MUST_CLOSE


def test_connection_close_response() -> None:
    conn = sent(Request(b"GET", b"/", [HOST]))
    receive(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    assert not conn.keep_alive
    assert conn.their_state is State.MUST_CLOSE


def test_head_response_has_no_body_whatever_its_length() -> None:
    conn = sent(Request(b"HEAD", b"/", [HOST]))
    events = receive(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    assert events == [Response(200, [(b"content-length", b"100")], b"1.1", b"OK"), END_OF_MESSAGE]
    assert conn.our_state is State.IDLE
    # the next cycle parses the next response right away
    conn.send(Request(b"GET", b"/", [HOST]))
    conn.send(END_OF_MESSAGE)
    assert receive(conn, b"HTTP/1.1 204 No Content\r\n\r\n")[-1] == END_OF_MESSAGE


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    conn = sent(Request(b"GET", b"/", [HOST]))
    events = receive(conn, b"HTTP/1.1 %d X\r\nContent-Length: 7\r\n\r\n" % status)
    assert events[-1] == END_OF_MESSAGE
    assert len(events) == 2
    assert conn.their_state is State.IDLE


def test_informational_responses_are_returned_before_the_final_one() -> None:
    conn = Connection(Role.CLIENT)
    conn.send(
        Request(b"POST", b"/", [HOST, (b"content-length", b"2"), (b"expect", b"100-continue")])
    )
    events = receive(
        conn, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
    )
    assert events == [
        InformationalResponse(100, [], b"1.1", b"Continue"),
        InformationalResponse(103, [(b"link", b"</s>")], b"1.1", b"Early Hints"),
    ]
    conn.send(Data(b"ok"))
    conn.send(END_OF_MESSAGE)
    events = receive(conn, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    assert events == [
        Response(201, [(b"content-length", b"0")], b"1.1", b"Created"),
        END_OF_MESSAGE,
    ]


def test_early_final_response_before_our_body_is_done() -> None:
    conn = Connection(Role.CLIENT)
    conn.send(Request(b"POST", b"/", [HOST, (b"content-length", b"4")]))
    events = receive(
        conn, b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    assert events[-1] == END_OF_MESSAGE
    assert conn.their_state is State.DONE
    conn.send(Data(b"abcd"))
    conn.send(END_OF_MESSAGE)
    assert conn.our_state is State.MUST_CLOSE


def test_101_switches_protocols() -> None:
    conn = sent(
        Request(b"GET", b"/ws", [HOST, (b"connection", b"Upgrade"), (b"upgrade", b"websocket")])
    )
    events = receive(
        conn,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi",
    )
    assert events == [
        InformationalResponse(
            101,
            [(b"upgrade", b"websocket"), (b"connection", b"Upgrade")],
            b"1.1",
            b"Switching Protocols",
        )
    ]
    assert conn.our_state is State.SWITCHED_PROTOCOL
    assert conn.their_state is State.SWITCHED_PROTOCOL
    assert conn.trailing_data == (b"\x81\x02hi", False)
    assert conn.next_event() is PAUSED


def test_upgrade_refused_by_a_normal_response() -> None:
    conn = sent(Request(b"GET", b"/ws", [HOST, (b"connection", b"upgrade"), (b"upgrade", b"x")]))
    events = receive(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno")
    assert events[1:] == [Data(b"no"), END_OF_MESSAGE]
    assert conn.our_state is State.IDLE


def test_keep_alive_cycles() -> None:
    conn = Connection(Role.CLIENT)
    for n in range(3):
        conn.send(Request(b"GET", b"/%d" % n, [HOST]))
        conn.send(END_OF_MESSAGE)
        assert conn.next_event() is NEED_DATA
        events = receive(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d" % n)
        assert events[1] == Data(b"%d" % n)
        assert (conn.our_state, conn.their_state) == (State.IDLE, State.IDLE)
    assert receive(conn, b"") == [ConnectionClosed()]


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101 without an Upgrade request"),
        (b"HTTP/1.1 099 Odd\r\n\r\n", "status below 100"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "two-digit status"),
        (b"HTTP/1.1 200OK\r\n\r\n", "no space before the reason"),
        (b"HTTP/2.0 200 OK\r\n\r\n", "HTTP/2 status line"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "CL and TE",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx", "list Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n", "bad chunk size"),
        (b"HTTP/1.1 200 OK\r\nX : 1\r\n\r\n", "space before the colon"),
        (b"HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n", "obs-fold"),
        (b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF"),
    ],
)
def test_bad_responses(raw: bytes, why: str) -> None:
    conn = sent(Request(b"GET", b"/", [HOST]))
    with pytest.raises(RemoteProtocolError):
        receive(conn, raw)
    assert conn.their_state is State.ERROR, why
    assert not conn.keep_alive


def test_response_before_any_request_is_an_error() -> None:
    conn = Connection(Role.CLIENT)
    with pytest.raises(RemoteProtocolError):
        receive(conn, b"HTTP/1.1 200 OK\r\n\r\n")


@pytest.mark.parametrize(
    "partial",
    [
        b"HTTP/1.1 200 OK\r\nContent-Len",
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
    ],
)
def test_eof_inside_a_response(partial: bytes) -> None:
    conn = sent(Request(b"GET", b"/", [HOST]))
    receive(conn, partial)
    with pytest.raises(RemoteProtocolError):
        receive(conn, b"")


def test_response_limits_apply() -> None:
    from bench.servers.protocol import Limits

    conn = Connection(Role.CLIENT, limits=Limits(max_header_count=2))
    conn.send(Request(b"GET", b"/", [HOST]))
    conn.send(END_OF_MESSAGE)
    with pytest.raises(RemoteProtocolError):
        receive(conn, b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")
