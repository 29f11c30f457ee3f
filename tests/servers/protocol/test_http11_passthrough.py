"""``send_passthrough``: body bytes sent past the core (sendfile) still count for framing."""

from __future__ import annotations

import pytest

from bench.servers.protocol import (
    END_OF_MESSAGE,
    Connection,
    Data,
    EndOfMessage,
    LocalProtocolError,
    Request,
    Response,
    Role,
    State,
)


def answering(head: bytes = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n") -> Connection:
    conn = Connection(Role.SERVER)
    conn.receive_data(head)
    assert isinstance(conn.next_event(), Request)
    assert conn.next_event() == END_OF_MESSAGE
    return conn


def test_content_length_body_passed_through_ends_the_cycle_and_keeps_the_connection() -> None:
    conn = answering(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
    conn.send(Response(200, [(b"content-length", b"10")]))
    assert conn.send_passthrough(4) == (b"", b"")
    assert conn.send(Data(b"xx")) == b"xx"
    assert conn.send_passthrough(4) == (b"", b"")
    assert conn.send(END_OF_MESSAGE) == b""
    assert conn.our_state is conn.their_state is State.IDLE
    request = conn.next_event()  # the pipelined request, on the same connection
    assert isinstance(request, Request) and request.target == b"/b"


def test_chunked_body_gets_its_chunk_framing_around_the_passed_bytes() -> None:
    conn = answering()
    conn.send(Response(200, []))
    assert conn.send_passthrough(300) == (b"12c\r\n", b"\r\n")
    assert conn.send_passthrough(0) == (b"", b"")  # an empty chunk would end the body
    assert conn.send(END_OF_MESSAGE) == b"0\r\n\r\n"
    assert conn.our_state is State.IDLE


def test_a_client_reads_what_the_passthrough_framing_says() -> None:
    server = answering()
    wire = server.send(Response(200, []))
    before, after = server.send_passthrough(5)
    wire += before + b"hello" + after + server.send(END_OF_MESSAGE)
    client = Connection(Role.CLIENT)
    client.send(Request(b"GET", b"/", [(b"host", b"h")]))
    client.send(END_OF_MESSAGE)
    client.receive_data(wire)
    assert isinstance(client.next_event(), Response)
    assert client.next_event() == Data(b"hello")
    assert isinstance(client.next_event(), EndOfMessage)


def test_more_than_the_content_length_is_refused_and_changes_nothing() -> None:
    conn = answering()
    conn.send(Response(200, [(b"content-length", b"3")]))
    with pytest.raises(LocalProtocolError, match="longer than the Content-Length"):
        conn.send_passthrough(4)
    conn.send_passthrough(3)
    with pytest.raises(LocalProtocolError):
        conn.send_passthrough(1)
    conn.send(END_OF_MESSAGE)


def test_a_short_passthrough_leaves_the_body_short() -> None:
    conn = answering()
    conn.send(Response(200, [(b"content-length", b"10")]))
    conn.send_passthrough(9)
    with pytest.raises(LocalProtocolError, match="1 bytes short"):
        conn.send(END_OF_MESSAGE)


@pytest.mark.parametrize(
    ("head", "status"),
    [(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", 200), (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 204)],
)
def test_no_bytes_may_pass_on_a_response_without_a_body(head: bytes, status: int) -> None:
    conn = answering(head)
    conn.send(Response(status, []))
    with pytest.raises(LocalProtocolError, match="cannot have a body"):
        conn.send_passthrough(1)
    assert conn.send_passthrough(0) == (b"", b"")


def test_passthrough_needs_a_response_head_first_and_a_length() -> None:
    conn = answering()
    with pytest.raises(LocalProtocolError, match="state IDLE"):
        conn.send_passthrough(1)
    conn.send(Response(200, []))
    for bad in (-1, 1.5):
        with pytest.raises(LocalProtocolError, match="invalid passthrough length"):
            conn.send_passthrough(bad)  # type: ignore[arg-type]
