"""The server role of the HTTP/1.1 core: cycles, pipelining, 100-continue, upgrade, EOF."""

from __future__ import annotations

import pytest
from http11_testkit import GET, events_until_signal, respond, served

from bench.servers.protocol import (
    END_OF_MESSAGE,
    NEED_DATA,
    PAUSED,
    Connection,
    ConnectionClosed,
    Data,
    InformationalResponse,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    Response,
    Role,
    State,
)

# ----------------------------------------------------------------- order of events


def test_response_without_a_request_is_refused() -> None:
    conn = Connection(Role.SERVER)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, []))
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"x"))
    with pytest.raises(LocalProtocolError):
        conn.send(END_OF_MESSAGE)


def test_server_cannot_send_requests() -> None:
    with pytest.raises(LocalProtocolError):
        Connection(Role.SERVER).send(Request(b"GET", b"/", [(b"host", b"x")]))


def test_second_response_in_one_cycle_is_refused() -> None:
    conn = served(GET)
    conn.send(Response(200, []))
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, []))


def test_keep_alive_cycles_on_one_connection() -> None:
    conn = Connection(Role.SERVER)
    for n in range(3):
        conn.receive_data(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % n)
        request = conn.next_event()
        assert isinstance(request, Request) and request.target == b"/%d" % n
        assert conn.request_method == b"GET"
        assert conn.next_event() == END_OF_MESSAGE
        assert conn.next_event() is PAUSED
        respond(conn, Response(200, [(b"content-length", b"1")]), Data(b"!"), END_OF_MESSAGE)
        assert (conn.our_state, conn.their_state) == (State.IDLE, State.IDLE)
        assert conn.next_event() is NEED_DATA
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)
    assert conn.their_state is State.CLOSED


def test_pipelined_requests_wait_for_each_response() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(GET.replace(b"/", b"/1", 1) + GET.replace(b"/", b"/2", 1))
    first = conn.next_event()
    assert isinstance(first, Request) and first.target == b"/1"
    assert conn.next_event() == END_OF_MESSAGE
    assert conn.next_event() is PAUSED
    conn.send(Response(200, [(b"content-length", b"2")]))
    assert conn.next_event() is PAUSED  # the response is not complete yet
    conn.send(Data(b"ok"))
    assert conn.next_event() is PAUSED
    conn.send(END_OF_MESSAGE)
    second = conn.next_event()
    assert isinstance(second, Request) and second.target == b"/2"


def test_response_may_start_before_the_request_body_is_read() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() == Data(b"ab")
    respond(conn, Response(200, [(b"content-length", b"0")]), END_OF_MESSAGE)
    assert conn.our_state is State.DONE
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"cd" + GET)
    assert conn.next_event() == Data(b"cd")
    assert conn.next_event() == END_OF_MESSAGE
    assert isinstance(conn.next_event(), Request)


def test_data_after_a_closing_request_is_ignored() -> None:
    conn = served(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    conn.receive_data(b"GET /more HTTP/1.1\r\n\r\n")
    respond(conn, Response(200, [(b"content-length", b"0")]), END_OF_MESSAGE)
    assert conn.our_state is State.MUST_CLOSE
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)


def test_connect_success_closes_the_connection() -> None:
    conn = served(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    out = respond(conn, Response(200, []), END_OF_MESSAGE)
    assert b"\r\nconnection: close\r\n" in out
    assert conn.our_state is State.MUST_CLOSE


# ---------------------------------------------------------------- 100-continue


EXPECT = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"


def test_100_continue_flag_cleared_by_sending_100() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(EXPECT)
    assert isinstance(conn.next_event(), Request)
    assert conn.they_are_waiting_for_100_continue
    assert conn.next_event() is NEED_DATA
    assert conn.send(InformationalResponse(100, [])) == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert not conn.they_are_waiting_for_100_continue
    conn.receive_data(b"body")
    assert conn.next_event() == Data(b"body")
    assert conn.next_event() == END_OF_MESSAGE
    respond(conn, Response(200, [(b"content-length", b"0")]), END_OF_MESSAGE)
    assert conn.our_state is State.IDLE


def test_100_continue_flag_cleared_when_the_body_comes_anyway() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(EXPECT + b"bo")
    assert isinstance(conn.next_event(), Request)
    assert conn.they_are_waiting_for_100_continue
    assert conn.next_event() == Data(b"bo")
    assert not conn.they_are_waiting_for_100_continue


def test_responding_without_reading_an_expected_body_closes() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(EXPECT)
    assert isinstance(conn.next_event(), Request)
    out = conn.send(Response(413, [(b"content-length", b"0")]))
    assert b"\r\nconnection: close\r\n" in out
    assert not conn.they_are_waiting_for_100_continue
    assert not conn.keep_alive


def test_no_100_continue_flag_without_a_body_or_on_http10() -> None:
    for raw in (
        b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
        b"POST / HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n",
    ):
        conn = Connection(Role.SERVER)
        conn.receive_data(raw)
        assert isinstance(conn.next_event(), Request)
        assert not conn.they_are_waiting_for_100_continue


def test_no_1xx_to_an_http10_client() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(b"POST / HTTP/1.0\r\nContent-Length: 1\r\n\r\n")
    assert isinstance(conn.next_event(), Request)
    with pytest.raises(LocalProtocolError):
        conn.send(InformationalResponse(100, []))


# -------------------------------------------------------------------------- upgrade


UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
SWITCH = InformationalResponse(101, [(b"upgrade", b"websocket"), (b"connection", b"Upgrade")])


def test_upgrade_switches_and_hands_over_trailing_data() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(UPGRADE + b"\x81\x00")
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() == END_OF_MESSAGE
    assert conn.next_event() is PAUSED
    out = conn.send(SWITCH)
    assert (
        out
        == b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n"
    )
    assert conn.our_state is State.SWITCHED_PROTOCOL
    assert conn.their_state is State.SWITCHED_PROTOCOL
    assert conn.trailing_data == (b"\x81\x00", False)
    assert conn.next_event() is PAUSED
    conn.receive_data(b"\x88\x00")
    conn.receive_data(b"")
    assert conn.trailing_data == (b"\x81\x00\x88\x00", True)
    assert conn.next_event() is PAUSED
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, []))


def test_upgrade_declined_keeps_http() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(UPGRADE + GET)
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() == END_OF_MESSAGE
    assert conn.next_event() is PAUSED
    respond(conn, Response(426, [(b"content-length", b"0")]), END_OF_MESSAGE)
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() == END_OF_MESSAGE
    with pytest.raises(LocalProtocolError):
        conn.send(SWITCH)  # this request did not ask for an upgrade


def test_101_without_an_upgrade_request_is_refused() -> None:
    conn = served(GET)
    with pytest.raises(LocalProtocolError):
        conn.send(SWITCH)


def test_upgrade_is_ignored_on_http10() -> None:
    conn = served(b"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
    with pytest.raises(LocalProtocolError):
        conn.send(SWITCH)


def test_upgrade_needs_the_connection_option() -> None:
    conn = served(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")
    with pytest.raises(LocalProtocolError):
        conn.send(SWITCH)


# ------------------------------------------------------------------------------ EOF


def test_eof_between_requests_is_a_clean_close() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)
    assert isinstance(conn.next_event(), ConnectionClosed)


def test_eof_after_a_complete_request_still_lets_us_answer() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(GET)
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() == END_OF_MESSAGE
    assert conn.next_event() is PAUSED
    respond(conn, Response(200, [(b"content-length", b"0")]), END_OF_MESSAGE)
    assert isinstance(conn.next_event(), ConnectionClosed)


@pytest.mark.parametrize(
    "partial",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ],
)
def test_eof_in_the_middle_of_a_request(partial: bytes) -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(partial)
    events_until_signal(conn)
    conn.receive_data(b"")
    with pytest.raises(RemoteProtocolError) as info:
        events_until_signal(conn)
    assert info.value.status_code == 400
    assert conn.their_state is State.ERROR
    assert not conn.keep_alive


def test_data_after_eof_is_a_caller_bug() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(b"")
    with pytest.raises(RuntimeError):
        conn.receive_data(b"GET")


def test_we_may_close_our_side() -> None:
    conn = Connection(Role.SERVER)
    assert conn.send(ConnectionClosed()) == b""
    assert conn.our_state is State.CLOSED
