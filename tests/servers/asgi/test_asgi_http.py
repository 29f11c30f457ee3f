"""The eventloop server over real sockets: httpx, curl and raw bytes against raw ASGI apps."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from asgi_testing import APPS_ENV, connect, exchange, parse_responses, read_one_response
from serverkit import ServedURL, wait_until


@pytest.fixture(scope="module")
def url(serve_module, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedURL]:
    marker = tmp_path_factory.mktemp("marker") / "disconnect.txt"
    env = {**APPS_ENV, "BENCH_TEST_MARKER": str(marker)}
    with serve_module("eventloop", "asgi_test_apps:raw", env=env) as served:
        served.marker = marker  # type: ignore[attr-defined]
        yield served


@pytest.fixture(scope="module")
def client(url: ServedURL) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=10) as c:
        yield c


def test_get(client: httpx.Client) -> None:
    r = client.get("/some/path")
    assert r.status_code == 200
    assert r.text == "raw:/some/path"
    assert r.headers["content-length"] == "14"  # added: the body came in one message
    assert r.headers["server"] == "bench"
    assert "date" in r.headers


def test_scope(client: httpx.Client, url: ServedURL) -> None:
    r = client.get("/scope?x=1&y=caf%C3%A9", headers={"X-Custom": "v1"})
    scope = r.json()
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["path"] == "/scope"
    assert scope["raw_path"] == "/scope"
    assert scope["query_string"] == "x=1&y=caf%C3%A9"
    assert scope["root_path"] == ""
    assert ["x-custom", "v1"] in scope["headers"]
    assert scope["client"][0] == "127.0.0.1"
    assert scope["server"] == ["127.0.0.1", url.port]
    assert scope["state"] == {"started": "yes"}  # set by the app's lifespan startup


def test_keep_alive_reuses_one_connection(url: ServedURL) -> None:
    with connect(url) as sock:
        for i in range(3):
            sock.sendall(b"GET /k%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
            reply = read_one_response(sock)
            assert reply.status == 200
            assert reply.body == b"raw:/k%d" % i


def test_http10_closes_unless_keep_alive(url: ServedURL) -> None:
    data = exchange(url, b"GET /old HTTP/1.0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"connection: close" in data.lower()
    assert data.endswith(b"raw:/old")


def test_chunked_upload_is_streamed(client: httpx.Client) -> None:
    parts = [b"%05d" % i for i in range(50)]
    r = client.post("/echo", content=iter(parts))
    assert r.status_code == 200
    assert r.content == b"".join(parts)
    assert int(r.headers["x-messages"]) >= 2


def test_large_upload_with_content_length(client: httpx.Client) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB: crosses the read high-water mark
    r = client.post("/echo", content=body)
    assert r.status_code == 200
    assert r.content == body


def test_expect_100_continue(url: ServedURL) -> None:
    with connect(url) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        reply = read_one_response(sock, b"POST")
        assert reply.status == 200
        assert reply.body == b"hello"


def test_head_has_no_body(url: ServedURL) -> None:
    data = exchange(url, b"HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b""


def test_streaming_response_is_chunked(client: httpx.Client) -> None:
    r = client.get("/stream")
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.content == b"part0;part1;part2;part3;part4;"


def test_big_response_to_a_slow_reader(url: ServedURL) -> None:
    size = 4 * 1024 * 1024
    with connect(url, timeout=20) as sock:
        # A small receive window: the server's writes outrun the client and must wait.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n".replace(b"/big", b"/big?%d" % size))
        reply = read_one_response(sock)
    assert reply.status == 200
    assert len(reply.body) == size


def test_pipelined_requests_are_answered_in_order(url: ServedURL) -> None:
    requests = (
        b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond"
        b"GET /sleep?0.05 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    data = exchange(url, requests)
    replies = parse_responses(data, [b"GET", b"POST", b"GET", b"GET", b"GET"])
    assert [r.body for r in replies] == [
        b"raw:/first",
        b"second",
        b"slept",
        b"part0;part1;part2;part3;part4;",
        b"raw:/last",
    ]


def test_app_exception_is_a_500(client: httpx.Client, url: ServedURL) -> None:
    r = client.get("/error")
    assert r.status_code == 500
    assert r.text == "500 Internal Server Error\n"
    assert wait_until(lambda: "ZeroDivisionError: boom" in url.log(), 5)
    lines = [line for line in url.log().splitlines() if "ZeroDivisionError" in line]
    assert len(lines) == 1
    assert "Traceback" not in url.log()


def test_exception_after_the_response_started_closes(url: ServedURL) -> None:
    data = exchange(url, b"GET /error-after-start HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert b"partial" in data
    assert not data.endswith(b"0\r\n\r\n")  # the chunked body was never terminated
    assert wait_until(lambda: "ValueError: late failure" in url.log(), 5)


@pytest.mark.parametrize("path", ["/no-response", "/bad-header"])
def test_broken_responses_are_500(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 500


def test_client_disconnect_reaches_the_app(url: ServedURL) -> None:
    marker: Path = url.marker  # type: ignore[attr-defined]
    with connect(url) as sock:
        sock.sendall(b"POST /disconnect HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
    assert wait_until(marker.exists, 5)
    assert wait_until(lambda: marker.read_text() == "http.disconnect", 5)


def test_curl(url: ServedURL) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    out = subprocess.run(
        ["curl", "-sS", "-i", "--data-binary", "from curl", f"{url}/echo"],
        capture_output=True,
        timeout=10,
        check=True,
    ).stdout
    assert out.startswith(b"HTTP/1.1 200 OK")
    assert out.endswith(b"from curl")


def test_no_traceback_in_the_log(url: ServedURL, client: httpx.Client) -> None:
    client.get("/error")
    assert "Traceback" not in url.log()
    assert json.loads(client.get("/scope").content)["method"] == "GET"
