"""The server role of the HTTP/1.1 core: response framing and the headers it writes."""

from __future__ import annotations

from email.utils import formatdate

import pytest
from http11_testkit import GET, header, respond, served, split_response

from bench.servers.protocol import (
    END_OF_MESSAGE,
    Connection,
    Data,
    EndOfMessage,
    InformationalResponse,
    LocalProtocolError,
    Request,
    Response,
    Role,
    State,
)
from bench.servers.protocol._serialize import http_date

# ---------------------------------------------------------------------------- framing


def test_content_length_from_the_app_is_used_and_the_cycle_restarts() -> None:
    conn = served(GET)
    out = respond(
        conn, Response(200, [(b"Content-Length", b"5")]), Data(b"hel"), Data(b"lo"), END_OF_MESSAGE
    )
    status, pairs, body = split_response(out)
    assert status == b"HTTP/1.1 200 OK"
    assert header(pairs, b"content-length") == [b"5"]
    assert header(pairs, b"transfer-encoding") == []
    assert header(pairs, b"connection") == []
    assert body == b"hello"
    assert conn.keep_alive
    assert (conn.our_state, conn.their_state) == (State.IDLE, State.IDLE)
    assert conn.request_method is None


def test_chunked_when_http11_and_no_length() -> None:
    conn = served(GET)
    head = conn.send(Response(200, [(b"content-type", b"text/plain")]))
    _, pairs, _ = split_response(head)
    assert header(pairs, b"transfer-encoding") == [b"chunked"]
    body = respond(
        conn, Data(b"ab"), Data(b""), Data(b"c" * 17), EndOfMessage(headers=[(b"x-sum", b"1")])
    )
    assert body == b"2\r\nab\r\n11\r\n" + b"c" * 17 + b"\r\n0\r\nx-sum: 1\r\n\r\n"
    assert conn.our_state is State.IDLE


def test_app_transfer_encoding_is_written_once() -> None:
    conn = served(GET)
    _, pairs, _ = split_response(conn.send(Response(200, [(b"Transfer-Encoding", b"chunked")])))
    assert [n for n, _ in pairs].count(b"transfer-encoding") == 1


def test_unsupported_transfer_encoding_from_the_app_is_refused() -> None:
    conn = served(GET)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, [(b"transfer-encoding", b"gzip")]))


def test_http10_without_length_is_close_delimited() -> None:
    conn = served(b"GET / HTTP/1.0\r\n\r\n")
    assert not conn.keep_alive
    out = respond(conn, Response(200, []), Data(b"raw "), Data(b"bytes"), END_OF_MESSAGE)
    _, pairs, body = split_response(out)
    assert header(pairs, b"transfer-encoding") == []
    assert header(pairs, b"connection") == [b"close"]
    assert body == b"raw bytes"
    assert conn.our_state is State.MUST_CLOSE


def test_http10_keep_alive_with_length_stays_open() -> None:
    conn = served(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    out = respond(conn, Response(200, [(b"content-length", b"2")]), Data(b"ok"), END_OF_MESSAGE)
    _, pairs, _ = split_response(out)
    assert header(pairs, b"connection") == [b"keep-alive"]
    assert conn.our_state is State.IDLE


def test_http10_keep_alive_without_length_must_close() -> None:
    conn = served(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    _, pairs, _ = split_response(conn.send(Response(200, [])))
    assert header(pairs, b"connection") == [b"close"]
    assert not conn.keep_alive


def test_head_response_keeps_length_and_drops_the_body() -> None:
    conn = served(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    out = respond(conn, Response(200, [(b"content-length", b"5")]), Data(b"hello"), END_OF_MESSAGE)
    _, pairs, body = split_response(out)
    assert header(pairs, b"content-length") == [b"5"]
    assert body == b""
    assert conn.our_state is State.IDLE


def test_head_response_without_length_is_not_chunked() -> None:
    conn = served(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    out = respond(conn, Response(200, []), END_OF_MESSAGE)
    _, pairs, body = split_response(out)
    assert header(pairs, b"transfer-encoding") == []
    assert body == b""
    assert conn.keep_alive


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    conn = served(GET)
    out = conn.send(Response(status, [(b"content-length", b"0")]))
    _, pairs, body = split_response(out)
    assert header(pairs, b"transfer-encoding") == []
    if status == 204:
        assert header(pairs, b"content-length") == []
    assert body == b""
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"x"))
    assert conn.send(END_OF_MESSAGE) == b""
    assert conn.our_state is State.IDLE


def test_informational_response_has_no_body_and_no_framing() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n"
    )
    assert isinstance(conn.next_event(), Request)
    out = conn.send(InformationalResponse(100, []))
    assert out == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert conn.our_state is State.IDLE


def test_final_response_status_range_is_checked() -> None:
    conn = served(GET)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(101, []))
    with pytest.raises(LocalProtocolError):
        conn.send(InformationalResponse(200, []))


def test_reason_phrase_is_written_and_checked() -> None:
    conn = served(GET)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, [], reason=b"OK\r\nX-Injected: 1"))
    out = conn.send(Response(299, [(b"content-length", b"0")], reason=b"Fine Thanks"))
    assert out.startswith(b"HTTP/1.1 299 Fine Thanks\r\n")


def test_unknown_status_without_reason() -> None:
    conn = served(GET)
    assert conn.send(Response(299, [(b"content-length", b"0")])).startswith(b"HTTP/1.1 299 \r\n")


# ------------------------------------------------------------------- added headers


def test_date_and_server_are_added() -> None:
    conn = served(GET, server_header=b"bench-test")
    _, pairs, _ = split_response(conn.send(Response(200, [(b"content-length", b"0")])))
    (date,) = header(pairs, b"date")
    assert date.endswith(b" GMT") and len(date) == 29  # IMF-fixdate
    assert header(pairs, b"server") == [b"bench-test"]


def test_date_and_server_from_the_app_are_kept_alone() -> None:
    conn = served(GET)
    given = [
        (b"Date", b"Thu, 01 Jan 1970 00:00:00 GMT"),
        (b"Server", b"app"),
        (b"content-length", b"0"),
    ]
    _, pairs, _ = split_response(conn.send(Response(200, given)))
    assert header(pairs, b"date") == [b"Thu, 01 Jan 1970 00:00:00 GMT"]
    assert header(pairs, b"server") == [b"app"]


def test_no_server_header_when_disabled() -> None:
    conn = served(GET, server_header=None)
    _, pairs, _ = split_response(conn.send(Response(200, [(b"content-length", b"0")])))
    assert header(pairs, b"server") == []


@pytest.mark.parametrize("value", [b"bench\r\nx-injected: 1", b"a\x00", "str"])
def test_bad_server_header_is_refused(value: object) -> None:
    with pytest.raises(LocalProtocolError):
        Connection(Role.SERVER, server_header=value)  # type: ignore[arg-type]


def test_app_connection_close_closes_once() -> None:
    conn = served(GET)
    out = respond(
        conn, Response(200, [(b"Connection", b"close"), (b"content-length", b"0")]), END_OF_MESSAGE
    )
    _, pairs, _ = split_response(out)
    assert header(pairs, b"connection") == [b"close"]
    assert not conn.keep_alive
    assert conn.our_state is State.MUST_CLOSE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"x-a", b"a\r\nx-injected: 1"),
        (b"x-a", b"a\nb"),
        (b"x-a", b"a\rb"),
        (b"x-a", b"a\x00b"),
        (b"x-a\r\nx-b", b"v"),
        (b"x a", b"v"),
        (b"x:a", b"v"),
        (b"", b"v"),
        (b"x-\x00", b"v"),
        ("x-str", b"v"),
        (b"x-a", "str"),
    ],
)
def test_bad_app_headers_are_refused_and_nothing_changes(name: object, value: object) -> None:
    conn = served(GET)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, [(name, value)]))  # type: ignore[list-item]
    assert conn.our_state is State.IDLE
    with pytest.raises(LocalProtocolError):
        conn.send(InformationalResponse(103, [(name, value)]))  # type: ignore[list-item]
    out = respond(conn, Response(200, [(b"content-length", b"0")]), END_OF_MESSAGE)
    assert out.startswith(b"HTTP/1.1 200 ")


def test_bad_trailer_is_refused() -> None:
    conn = served(GET)
    conn.send(Response(200, []))
    with pytest.raises(LocalProtocolError):
        conn.send(EndOfMessage(headers=[(b"x-t", b"a\r\nb")]))


@pytest.mark.parametrize("value", [b"-1", b"1.5", b"+3", b"", b"0x10", b"1, 1"])
def test_bad_app_content_length_is_refused(value: bytes) -> None:
    conn = served(GET)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, [(b"content-length", value)]))


def test_too_much_body_for_content_length() -> None:
    conn = served(GET)
    conn.send(Response(200, [(b"content-length", b"3")]))
    conn.send(Data(b"ab"))
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"cd"))


def test_too_little_body_for_content_length() -> None:
    conn = served(GET)
    conn.send(Response(200, [(b"content-length", b"3")]))
    conn.send(Data(b"ab"))
    with pytest.raises(LocalProtocolError):
        conn.send(END_OF_MESSAGE)


def test_trailers_need_chunked() -> None:
    conn = served(GET)
    conn.send(Response(200, [(b"content-length", b"0")]))
    with pytest.raises(LocalProtocolError):
        conn.send(EndOfMessage(headers=[(b"x-t", b"1")]))


@pytest.mark.parametrize("seconds", [0, 784111777, 951782400, 1700000000, 4102444799])
def test_date_format_is_imf_fixdate(seconds: int) -> None:
    assert http_date(seconds) == formatdate(seconds, usegmt=True).encode()
