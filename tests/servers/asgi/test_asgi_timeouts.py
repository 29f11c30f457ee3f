"""Keep-alive and header-read timeouts, and --limit-concurrency, against a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from asgi_testing import APPS_ENV, connect, read_one_response, read_until_closed
from serverkit import ServedURL, wait_until


@pytest.fixture(scope="module")
def url(serve_module) -> Iterator[ServedURL]:
    args = ("--timeout-keep-alive", "0.5", "--timeout-header-read", "0.5")
    with serve_module("eventloop", "asgi_test_apps:raw", *args, env=APPS_ENV) as served:
        yield served


def test_idle_keep_alive_connection_is_closed(url: ServedURL) -> None:
    with connect(url, timeout=10) as sock:
        sock.sendall(b"GET /once HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_one_response(sock).status == 200
        assert read_until_closed(sock) == b""  # closed by the server, well before 10 s


def test_silent_client_is_closed(url: ServedURL) -> None:
    with connect(url, timeout=10) as sock:
        assert read_until_closed(sock) == b""


def test_byte_a_second_client_is_closed_and_does_not_hold_the_server(url: ServedURL) -> None:
    request = b"GET /slowloris HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 200 + b"\r\n\r\n"
    closed = threading.Event()
    sent = []

    def trickle() -> None:
        with connect(url, timeout=10) as sock:
            try:
                for byte in request:
                    sock.sendall(bytes([byte]))
                    sent.append(byte)
                    if closed.wait(0.1):
                        break
            except OSError:
                pass
            try:
                assert read_until_closed(sock) == b""
            except OSError:
                pass  # reset: closed as well
            closed.set()

    worker = threading.Thread(target=trickle)
    worker.start()
    try:
        # Meanwhile, other clients are served.
        for _ in range(5):
            assert httpx.get(url + "/other", timeout=5).text == "raw:/other"
        assert closed.wait(15)
        assert len(sent) < len(request)  # cut off long before the head was complete
    finally:
        closed.set()
        worker.join(15)


@pytest.fixture(scope="module")
def limited(serve_module, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedURL]:
    marker = tmp_path_factory.mktemp("limit") / "marker"
    env = {**APPS_ENV, "BENCH_TEST_MARKER": str(marker)}
    with serve_module(
        "eventloop", "asgi_test_apps:raw", "--limit-concurrency", "1", env=env
    ) as served:
        served.marker = marker  # type: ignore[attr-defined]
        yield served


def test_limit_concurrency_answers_503(limited: ServedURL) -> None:
    hold_marker = Path(str(limited.marker) + ".hold")  # type: ignore[attr-defined]
    results: list[int] = []

    def slow_request() -> None:
        results.append(httpx.get(limited + "/hold?0.5", timeout=10).status_code)

    worker = threading.Thread(target=slow_request)
    worker.start()
    try:
        assert wait_until(hold_marker.exists, 10)  # the first request is in progress
        refused = httpx.get(limited + "/second", timeout=5)
        assert refused.status_code == 503
        assert refused.headers["connection"] == "close"
    finally:
        worker.join(10)
    assert results == [200]
    assert httpx.get(limited + "/third", timeout=5).status_code == 200
