"""bench.servers.wsgi.environ: the PEP 3333 environ of a Request event, and StartResponse's rules."""

from __future__ import annotations

import io
import sys

import pytest

from bench.servers.protocol import Request
from bench.servers.wsgi.environ import StartResponse, WSGIResponseError, build_environ, split_target


def _environ(request: Request, **overrides: object) -> dict[str, object]:
    options: dict[str, object] = {
        "server": ("127.0.0.1", 8000),
        "client": ("10.1.2.3", 5555),
        "scheme": "http",
        "root_path": "",
        "body": io.BytesIO(b"body"),
        "multithread": True,
        "multiprocess": False,
    }
    options.update(overrides)
    return build_environ(request, **options)  # type: ignore[arg-type]


def test_cgi_keys() -> None:
    request = Request(
        b"POST",
        b"/a%20b/c?x=1&y=%2F",
        [
            (b"host", b"example.org"),
            (b"content-type", b"text/plain"),
            (b"content-length", b"4"),
            (b"x-forwarded-for", b"1.1.1.1"),
            (b"x-forwarded-for", b"2.2.2.2"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
        ],
    )
    environ = _environ(request)
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/a b/c"
    assert environ["QUERY_STRING"] == "x=1&y=%2F"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "4"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert environ["HTTP_HOST"] == "example.org"
    assert environ["HTTP_X_FORWARDED_FOR"] == "1.1.1.1, 2.2.2.2"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["SERVER_NAME"] == "127.0.0.1"
    assert environ["SERVER_PORT"] == "8000"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["REMOTE_ADDR"] == "10.1.2.3"
    assert environ["REMOTE_PORT"] == "5555"
    assert environ["wsgi.version"] == (1, 0)
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.input"].read() == b"body"
    assert environ["wsgi.errors"] is sys.stderr
    assert environ["wsgi.multithread"] is True
    assert environ["wsgi.multiprocess"] is False
    assert environ["wsgi.run_once"] is False
    assert all(type(v) is str for k, v in environ.items() if k.isupper())


def test_underscore_headers_are_dropped() -> None:
    request = Request(b"GET", b"/", [(b"host", b"h"), (b"x_forwarded_for", b"spoofed")])
    assert "HTTP_X_FORWARDED_FOR" not in _environ(request)


def test_root_path_and_utf8_path_as_latin1() -> None:
    request = Request(b"GET", b"/app/caf%C3%A9", [(b"host", b"h")])
    environ = _environ(request, root_path="/app")
    assert environ["SCRIPT_NAME"] == "/app"
    assert environ["PATH_INFO"] == "/café".encode().decode("latin-1")  # PEP 3333: bytes as latin-1
    other = _environ(Request(b"GET", b"/application", [(b"host", b"h")]), root_path="/app")
    assert other["PATH_INFO"] == "/application"  # only a whole path segment is stripped


def test_server_name_from_host_without_a_server_address() -> None:
    environ = _environ(
        Request(b"GET", b"/", [(b"host", b"example.org:8443")]), server=None, client=None
    )
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.org", "8443")
    assert "REMOTE_ADDR" not in environ
    v6 = _environ(Request(b"GET", b"/", [(b"host", b"[::1]")]), server=None, scheme="https")
    assert (v6["SERVER_NAME"], v6["SERVER_PORT"]) == ("[::1]", "443")


def test_http10_without_host() -> None:
    environ = _environ(Request(b"GET", b"/", [], b"1.0"), server=None)
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.0"
    assert environ["SERVER_NAME"] == "localhost"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (b"/p?q=1", (b"/p", b"q=1")),
        (b"/p?q=1#frag", (b"/p", b"q=1")),
        (b"http://h:1/p/q?z", (b"/p/q", b"z")),
        (b"http://h?z", (b"/", b"z")),
    ],
)
def test_split_target(target: bytes, expected: tuple[bytes, bytes]) -> None:
    assert split_target(target) == expected


def test_start_response_converts_the_head() -> None:
    written: list[bytes] = []
    sr = StartResponse(written.append)
    write = sr("404 Not Found", [("Content-Type", "text/plain"), ("X-A", "é")])
    assert sr.called
    assert sr.status_code == 404
    assert sr.reason == b"Not Found"
    assert sr.headers == [(b"Content-Type", b"text/plain"), (b"X-A", "é".encode("latin-1"))]
    write(b"data")
    assert written == [b"data"]


def test_hop_by_hop_headers_are_dropped_and_close_is_honoured() -> None:
    sr = StartResponse()
    sr("200 OK", [("Connection", "close"), ("Transfer-Encoding", "chunked"), ("X-Ok", "1")])
    assert sr.headers == [(b"X-Ok", b"1")]
    assert sr.wants_close


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        ("200", []),
        (b"200 OK", []),
        ("20 OK", []),
        ("abc OK", []),
        ("200 OK", [("X-A", "a\r\nb")]),
        ("200 OK", [("X A", "v")]),
        ("200 OK", [("X-A", 1)]),
        ("200 OK", [("X-A", "€")]),
        ("200 OK", ("not", "a list")),
        ("200 OK", [("only-name",)]),
    ],
)
def test_start_response_refuses_bad_heads(status: object, headers: object) -> None:
    with pytest.raises(WSGIResponseError):
        StartResponse()(status, headers)  # type: ignore[arg-type]


def test_exc_info_rules() -> None:
    sr = StartResponse()
    sr("200 OK", [])
    with pytest.raises(WSGIResponseError, match="twice"):
        sr("500 Internal Server Error", [])
    try:
        raise ValueError("app failed")
    except ValueError:
        info = sys.exc_info()
    sr("500 Internal Server Error", [], info)  # head not sent: replaced
    assert sr.status_code == 500
    sr.mark_sent()
    with pytest.raises(ValueError, match="app failed"):
        sr("500 Internal Server Error", [], info)  # head sent: re-raised


def test_write_needs_start_response_and_a_writer() -> None:
    with pytest.raises(WSGIResponseError):
        StartResponse(lambda data: None).write(b"x")
    sr = StartResponse()
    sr("200 OK", [])
    with pytest.raises(WSGIResponseError):
        sr.write(b"x")
