"""TLS: HTTP/1.1 over TLS with a throw-away trustme certificate, ALPN http/1.1, for
the eventloop server and the prefork sync and eventloop workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deploykit import TLSFiles, run_serve, tls_get, write_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return TLSFiles(tmp_path_factory.mktemp("tls"))


def test_eventloop_serves_https_and_negotiates_http11(serve: Any, tls: TLSFiles) -> None:
    args = ("--ssl-certfile", str(tls.certfile), "--ssl-keyfile", str(tls.keyfile))
    with serve("eventloop", "hello", *args) as url:
        assert url.startswith("https://")
        alpn, response = tls_get(url, tls.client_context())
    assert alpn == "http/1.1"
    assert response.startswith(b"HTTP/1.1 200 ")
    assert response.endswith(b"Hello, world!")


def test_eventloop_asgi_scope_scheme_is_https(serve: Any, tls: TLSFiles, tmp_path: Path) -> None:
    write_app(tmp_path)
    args = ("--ssl-certfile", str(tls.certfile), "--ssl-keyfile", str(tls.keyfile))
    with serve("eventloop", "deployapp:asgi", "--app-dir", str(tmp_path), *args) as url:
        _alpn, response = tls_get(url, tls.client_context())
    assert response.endswith(b"https 127.0.0.1 -")


@pytest.mark.parametrize("worker_class", ["eventloop"])
def test_prefork_serves_https(serve: Any, tls: TLSFiles, tmp_path: Path, worker_class: str) -> None:
    write_app(tmp_path)
    args = ("--certfile", str(tls.certfile), "--keyfile", str(tls.keyfile), "-k", worker_class)
    with serve("prefork", "deployapp", "--chdir", str(tmp_path), *args) as url:
        assert url.startswith("https://")
        for _ in range(2):  # one connection after the other on the same worker
            alpn, response = tls_get(url, tls.client_context())
            assert alpn == "http/1.1"
            assert response.startswith(b"HTTP/1.1 200 ")
            assert response.endswith(b"https 127.0.0.1 -")


def test_a_client_that_fails_the_handshake_does_not_stop_the_worker(
    serve: Any, tls: TLSFiles, tmp_path: Path
) -> None:
    import socket

    write_app(tmp_path)
    args = ("--certfile", str(tls.certfile), "--keyfile", str(tls.keyfile), "-k", "eventloop")
    with serve("prefork", "deployapp", "--chdir", str(tmp_path), *args) as url:
        with socket.create_connection((url.host, url.port), timeout=10) as plain:
            plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP to a TLS port
            try:
                plain.recv(100)
            except OSError:
                pass
        _alpn, response = tls_get(url, tls.client_context())
        assert response.startswith(b"HTTP/1.1 200 ")
        assert "Traceback" not in url.log()


def test_a_missing_certificate_is_refused_at_start(tmp_path: Path) -> None:
    done = run_serve(
        "eventloop", "hello", "-b", "127.0.0.1:0", "--ssl-certfile", str(tmp_path / "missing.pem")
    )
    assert done.returncode == 2
    assert "no such file" in done.stderr.splitlines()[-1]


@pytest.mark.parametrize("worker_class", ["sync", "thread"])
def test_tls_with_a_blocking_worker_is_refused(
    tmp_path: Path, tls: TLSFiles, worker_class: str
) -> None:
    done = run_serve(
        "prefork",
        "hello",
        "-k",
        worker_class,
        "--certfile",
        str(tls.certfile),
        "--keyfile",
        str(tls.keyfile),
    )
    assert done.returncode == 2
    assert "served by -k eventloop" in done.stderr
