"""The canned error response: one form, framed by the core when it still can."""

from __future__ import annotations

from bench.servers.protocol import (
    END_OF_MESSAGE,
    Connection,
    Data,
    EndOfMessage,
    LocalProtocolError,
    RemoteProtocolError,
    Request,
    Response,
    Role,
    State,
    error_response,
)


def answering(head: bytes, server_header: bytes | None = b"bench") -> Connection:
    conn = Connection(Role.SERVER, server_header=server_header)
    conn.receive_data(head)
    conn.next_event()
    conn.next_event()
    return conn


def read(wire: bytes, method: bytes = b"GET") -> tuple[Response, bytes]:
    client = Connection(Role.CLIENT)
    client.send(Request(method, b"/", [(b"host", b"h")]))
    client.send(END_OF_MESSAGE)
    client.receive_data(wire)
    response = client.next_event()
    assert isinstance(response, Response)
    body = b""
    while True:
        event = client.next_event()
        if isinstance(event, EndOfMessage):
            return response, body
        assert isinstance(event, Data)
        body += event.data


def test_the_error_is_framed_by_the_core_and_closes() -> None:
    conn = answering(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    response, body = read(error_response(conn, 500))
    assert response.status_code == 500
    assert body == b"500 Internal Server Error\n"
    assert (b"connection", b"close") in response.headers
    assert (b"content-type", b"text/plain; charset=utf-8") in response.headers
    assert (b"server", b"bench") in response.headers
    assert not conn.keep_alive and conn.our_state is State.MUST_CLOSE


def test_a_detail_goes_on_the_second_line() -> None:
    conn = answering(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    _response, body = read(error_response(conn, 501, "serve an ASGI app"))
    assert body == b"501 Not Implemented\nserve an ASGI app\n"


def test_a_refused_request_gets_its_status() -> None:
    conn = Connection(Role.SERVER)
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n")
    try:
        conn.next_event()
    except RemoteProtocolError as exc:
        status = exc.status_code
    response, body = read(error_response(conn, status))
    assert response.status_code == status == 400
    assert body == b"400 Bad Request\n"


def test_after_a_head_that_never_went_out_the_same_bytes_are_written_by_hand() -> None:
    conn = answering(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", server_header=None)
    conn.send(Response(200, [(b"content-length", b"2")]))
    try:
        conn.send(Data(b"too long"))
    except LocalProtocolError:
        pass
    response, body = read(error_response(conn, 500))
    assert response.status_code == 500 and body == b"500 Internal Server Error\n"
    names = [name for name, _ in response.headers]
    assert b"date" in names and b"server" not in names
    assert (b"connection", b"close") in response.headers


def test_a_head_request_gets_no_error_body() -> None:
    conn = answering(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")
    response, body = read(error_response(conn, 500), method=b"HEAD")
    assert response.status_code == 500 and body == b""
