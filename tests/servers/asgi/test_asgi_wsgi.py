"""--interface wsgi: WSGI apps (bundled, raw, Flask) served from the eventloop server's thread pool."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from asgi_testing import APPS_ENV, exchange, parse_responses
from serverkit import ServedURL, wait_until


@pytest.fixture(scope="module")
def wsgi_url(serve_module) -> Iterator[ServedURL]:
    with serve_module(
        "eventloop", "asgi_test_apps:wsgi_app", "--interface", "wsgi", env=APPS_ENV
    ) as url:
        yield url


def test_bundled_hello_as_wsgi(serve) -> None:
    with serve("eventloop", "hello", "--interface", "wsgi") as url:
        assert url.log().splitlines()[-1].startswith(f"bench: listening on {url} (eventloop wsgi")
        r = httpx.get(url + "/anything")
        assert r.text == "Hello, world!"
        assert r.headers["content-length"] == "13"


def test_environ(wsgi_url: ServedURL) -> None:
    r = httpx.post(
        wsgi_url + "/environ?a=1&b=%20",
        content=b"payload",
        headers={"X-Thing": "one", "Content-Type": "text/plain"},
    )
    environ = r.json()
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/environ"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["QUERY_STRING"] == "a=1&b=%20"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "7"
    assert environ["HTTP_X_THING"] == "one"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["SERVER_PORT"] == str(wsgi_url.port)
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["body"] == "payload"
    assert environ["multithread"] is True


def test_chunked_request_body(wsgi_url: ServedURL) -> None:
    r = httpx.post(wsgi_url + "/environ", content=iter([b"ab", b"cd", b"ef"]))
    assert r.json()["body"] == "abcdef"


def test_generator_response_streams(wsgi_url: ServedURL) -> None:
    r = httpx.get(wsgi_url + "/stream")
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.content == b"chunk0;chunk1;chunk2;chunk3;chunk4;"


def test_legacy_write(wsgi_url: ServedURL) -> None:
    assert httpx.get(wsgi_url + "/write").content == b"written;returned"


def test_app_error_is_a_500_and_one_line(wsgi_url: ServedURL) -> None:
    r = httpx.get(wsgi_url + "/error")
    assert r.status_code == 500
    assert wait_until(lambda: "KeyError" in wsgi_url.log(), 5)
    assert len([x for x in wsgi_url.log().splitlines() if "KeyError" in x]) == 1
    assert "Traceback" not in wsgi_url.log()


def test_pipelined_wsgi_requests_in_order(wsgi_url: ServedURL) -> None:
    data = exchange(
        wsgi_url,
        b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /write HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    replies = parse_responses(data, [b"GET", b"GET", b"GET"])
    assert [r.status for r in replies] == [200, 404, 200]
    assert replies[2].body == b"written;returned"


def test_flask(serve) -> None:
    with serve("eventloop", "asgi_test_apps:flask_app()", env=APPS_ENV) as url:
        assert "eventloop wsgi" in url.log()  # detected as WSGI
        assert httpx.get(url + "/hello/bob").json() == {"greeting": "hello bob"}
        assert httpx.post(url + "/sum", json=[1, 2, 3]).json() == {"total": 6}
        assert httpx.get(url + "/nope").status_code == 404
