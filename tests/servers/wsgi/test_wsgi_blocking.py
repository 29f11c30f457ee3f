"""The WSGI request cycle over a real socket pair, read back with the core's client role.

Most tests write the whole request first, run the server side to the end of the
connection in the test's own thread, then parse what came back: deterministic, and
warnings or log lines raised by the app are seen by the test. Tests that need the
two sides to take turns (``100 Continue``, a body streamed while the app reads it)
run the server side in a thread.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from wsgi_harness import exchange, parse_replies, replies, request_bytes, serve_connection

from bench.servers.wsgi.blocking import WSGIHandler


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, ", b"world!"]


class Closing:
    """An iterable that records whether the server called close()."""

    def __init__(self, chunks: list[bytes], fail_at: int | None = None) -> None:
        self.chunks = chunks
        self.fail_at = fail_at
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("failed while iterating")
            yield chunk

    def close(self) -> None:
        self.closed += 1


# -- responses ----------------------------------------------------------------------


def test_a_list_body_gets_a_content_length_and_the_connection_is_kept() -> None:
    first, second = replies(hello, request_bytes(), request_bytes())
    assert first.status == second.status == 200
    assert first.body == b"Hello, world!"
    assert first.header(b"content-length") == b"13"
    assert first.header(b"connection") is None
    assert second.body == b"Hello, world!"


def test_a_list_body_longer_than_its_content_length_is_a_500_and_a_close() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"Hello, world!"]

    data, _ = exchange(app, request_bytes(), request_bytes())
    (reply,) = parse_replies(data, ["GET"])  # nothing of the 200 went out; no second reply
    assert reply.status == 500 and reply.header(b"connection") == b"close"


def test_keep_alive_off_closes_after_one_response() -> None:
    data, _ = exchange(hello, request_bytes(), request_bytes(), keep_alive=False)
    (reply,) = parse_replies(data, ["GET"])
    assert reply.header(b"connection") == b"close"
    assert data.count(b"HTTP/1.1 200") == 1


def test_a_generator_body_is_chunked_and_headers_wait_for_the_first_non_empty_chunk() -> None:
    sent_head_before_body: list[bool] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b""
        # Nothing may have been sent yet: the app can still change its mind.
        start_response("404 Not Found", [("Content-Type", "text/plain")], _exc_info())
        sent_head_before_body.append(False)
        yield b"not "
        yield b"found"

    (reply,) = replies(app, request_bytes())
    assert reply.status == 404
    assert reply.header(b"transfer-encoding") == b"chunked"
    assert reply.body == b"not found"
    assert sent_head_before_body == [False]


def _exc_info() -> Any:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        return sys.exc_info()


def test_exc_info_after_the_head_was_sent_reraises_and_the_response_is_cut() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"partial"
        start_response("500 Internal Server Error", [], _exc_info())
        yield b"never"

    data, log = exchange(app, request_bytes())
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"partial" in data and b"never" not in data
    assert not data.endswith(b"0\r\n\r\n")  # no final chunk: the client sees the failure
    assert "ValueError: boom" in log


def test_an_error_before_any_body_becomes_a_500_and_close_is_still_called() -> None:
    body = Closing([b"", b"x"], fail_at=1)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Closing:
        start_response("200 OK", [])
        return body

    data, log = exchange(app, request_bytes(), request_bytes())
    (reply,) = parse_replies(data, ["GET"])
    assert reply.status == 500
    assert reply.header(b"connection") == b"close"
    assert "RuntimeError: failed while iterating" in log
    assert body.closed == 1


def test_close_is_called_after_a_normal_response() -> None:
    body = Closing([b"a", b"b"])

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Closing:
        start_response("200 OK", [])
        return body

    (reply,) = replies(app, request_bytes())
    assert reply.body == b"ab"
    assert body.closed == 1


def test_start_response_twice_without_exc_info_is_a_500() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [])
        start_response("200 OK", [])
        return [b"x"]

    data, log = exchange(app, request_bytes())
    assert parse_replies(data, ["GET"])[0].status == 500
    assert "start_response called twice" in log


def test_legacy_write_sends_the_head_then_the_data() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written, ")
        return [b"then returned"]

    (reply,) = replies(app, request_bytes())
    assert reply.body == b"written, then returned"


def test_head_requests_get_no_body() -> None:
    (reply,) = replies(hello, request_bytes("HEAD"))
    assert reply.status == 200
    assert reply.body == b""


def test_an_app_exception_is_logged_and_answered_500() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raise KeyError("missing")

    data, log = exchange(app, request_bytes())
    assert parse_replies(data, ["GET"])[0].status == 500
    assert "error in the application (GET /)" in log and "KeyError" in log


def test_a_str_body_is_refused_with_a_500() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[Any]:
        start_response("200 OK", [])
        return ["text, not bytes"]

    data, log = exchange(app, request_bytes())
    assert parse_replies(data, ["GET"])[0].status == 500
    assert "not bytes" in log


def test_connection_close_from_the_app_closes_the_connection() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Connection", "close")])
        return [b"bye"]

    data, _ = exchange(app, request_bytes(), request_bytes())
    assert data.count(b"HTTP/1.1") == 1
    assert parse_replies(data, ["GET"])[0].header(b"connection") == b"close"


# -- the environ ------------------------------------------------------------------------


def test_environ_has_the_cgi_and_wsgi_keys_as_latin1_native_strings() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    target = "/caf%C3%A9/x?q=%C3%A9&a=1"
    replies(app, request_bytes("GET", target, [("X-Thing", "v1"), ("Cookie", "a=1")]))
    assert seen["REQUEST_METHOD"] == "GET"
    assert seen["PATH_INFO"] == "/café/x".encode().decode("latin-1")
    assert seen["QUERY_STRING"] == "q=%C3%A9&a=1"
    assert seen["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert (seen["SERVER_NAME"], seen["SERVER_PORT"]) == ("127.0.0.1", "8000")
    assert (seen["REMOTE_ADDR"], seen["REMOTE_PORT"]) == ("127.0.0.1", "40000")
    assert seen["HTTP_HOST"] == "test.example:8000"
    assert seen["HTTP_X_THING"] == "v1"
    assert seen["wsgi.url_scheme"] == "http"
    assert seen["wsgi.version"] == (1, 0)
    assert seen["wsgi.input_terminated"] is True
    assert callable(seen["wsgi.file_wrapper"])
    for key, value in seen.items():
        if key.isupper():
            assert type(value) is str, key


# -- request bodies -----------------------------------------------------------------------


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    stream = environ["wsgi.input"]
    parts = [stream.read(3), stream.readline(), *stream, stream.read(), stream.read(10)]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [repr(parts).encode()]


def test_a_content_length_body_reads_in_parts_and_ends_with_eof() -> None:
    (reply,) = replies(echo, request_bytes("POST", "/", body=b"abcdef\nline2\nrest"))
    assert reply.body == repr([b"abc", b"def\n", b"line2\n", b"rest", b"", b""]).encode()


def test_a_chunked_body_is_dechunked() -> None:
    body = b"4\r\nab\nc\r\n5\r\ndefgh\r\n0\r\n\r\n"
    raw = request_bytes("POST", "/", [("Transfer-Encoding", "chunked")]) + body
    (reply,) = replies(echo, raw)
    assert reply.body == repr([b"ab\n", b"cdefgh", b"", b""]).encode()


def test_an_unread_body_is_drained_and_the_connection_reused() -> None:
    first, second = replies(hello, request_bytes("POST", "/", body=b"x" * 5000), request_bytes())
    assert first.status == second.status == 200


def run_threaded(app: Callable[..., Any], **options: Any) -> tuple[socket.socket, threading.Thread]:
    handler = WSGIHandler(app, errors=io.StringIO(), **options)
    server, client = socket.socketpair()
    thread = threading.Thread(target=serve_connection, args=(handler, server), daemon=True)
    thread.start()
    return client, thread


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_a_streamed_body_is_read_as_it_arrives_and_never_past_its_end() -> None:
    client, thread = run_threaded(echo)
    with client:
        client.sendall(request_bytes("POST", "/", [("Content-Length", "11")]) + b"abcd")
        client.sendall(b"ef\nghij")  # the app reads while the body is still arriving
        data = read_until(client, b"]")
    thread.join(5)
    (reply,) = parse_replies(data, ["POST"])
    assert reply.body == repr([b"abc", b"def\n", b"ghij", b"", b""]).encode()


def test_100_continue_is_sent_when_the_app_first_reads() -> None:
    client, thread = run_threaded(echo)
    with client:
        client.sendall(
            request_bytes("POST", "/", [("Content-Length", "5"), ("Expect", "100-continue")])
        )
        interim = read_until(client, b"\r\n\r\n")
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        client.sendall(b"hello")
        data = interim + read_until(client, b"]")
    thread.join(5)
    (reply,) = parse_replies(data, ["POST"])
    assert reply.informational == [100]
    assert reply.body == repr([b"hel", b"lo", b"", b""]).encode()


def test_100_continue_is_not_sent_when_the_app_ignores_the_body() -> None:
    data, _ = exchange(
        hello, request_bytes("POST", "/", [("Content-Length", "5"), ("Expect", "100-continue")])
    )
    (reply,) = parse_replies(data, ["POST"])
    assert reply.informational == []
    assert reply.header(b"connection") == b"close"


def test_a_client_that_vanishes_mid_body_gives_the_app_an_error() -> None:
    failures: list[str] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except OSError as exc:
            failures.append(str(exc))
            raise
        start_response("200 OK", [])
        return [b""]

    client, thread = run_threaded(app)
    client.sendall(request_bytes("POST", "/", [("Content-Length", "100")]) + b"short")
    client.close()
    thread.join(5)
    assert failures and "body" in failures[0]


# -- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ],
)
def test_malformed_requests_are_refused_with_their_status(raw: bytes, status: int) -> None:
    data, _ = exchange(hello, raw)
    assert data.startswith(b"HTTP/1.1 %d " % status)
    assert b"connection: close\r\n" in data


def test_a_websocket_upgrade_is_refused_with_an_explanation() -> None:
    raw = request_bytes(
        "GET",
        "/ws",
        [
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ],
    )
    (reply,) = parse_replies(exchange(hello, raw)[0], ["GET"])
    assert reply.status == 501
    assert b"-k eventloop" in reply.body


def test_upgrade_websocket_without_connection_upgrade_is_a_plain_request() -> None:
    """The core's rule (RFC 9110 §7.8): Upgrade counts only when Connection lists it."""
    raw = request_bytes("GET", "/ws", [("Upgrade", "websocket")])
    (reply,) = parse_replies(exchange(hello, raw)[0], ["GET"])
    assert reply.status == 200


# -- wsgi.file_wrapper ------------------------------------------------------------------------


def file_app(make: Callable[[], Any]) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](make(), 4096)

    return app


def test_file_wrapper_over_a_real_file_uses_sendfile_and_keeps_the_connection(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data.bin"
    content = bytes(range(256)) * 400
    path.write_bytes(content)
    opened: list[Any] = []

    def make() -> Any:
        f = open(path, "rb")
        f.seek(1000)
        opened.append(f)
        return f

    first, second = replies(file_app(make), request_bytes(), request_bytes())
    assert first.body == second.body == content[1000:]
    assert first.header(b"content-length") == str(len(content) - 1000).encode()
    assert all(f.closed for f in opened)


def test_file_wrapper_over_a_file_like_object_is_iterated() -> None:
    (reply,) = replies(file_app(lambda: io.BytesIO(b"y" * 10000)), request_bytes())
    assert reply.body == b"y" * 10000
    assert reply.header(b"transfer-encoding") == b"chunked"
