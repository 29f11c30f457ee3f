"""Where the eventloop server listens: Unix sockets, IPv6, inherited fds, several binds, -w N."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from serverkit import REPO_ROOT


def test_unix_socket(serve, tmp_path: Path) -> None:
    path = tmp_path / "bench.sock"
    with serve("eventloop", "hello", "-b", f"unix:{path}") as url:
        assert url == f"unix:{path}"
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport) as client:
            r = client.get("http://localhost/")
        assert r.text == "Hello, world!"


def test_ipv6(serve) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    with serve("eventloop", "hello", "-b", "[::1]:0") as url:
        assert url.startswith("http://[::1]:")
        assert httpx.get(url + "/").text == "Hello, world!"


def test_inherited_fd(serve) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    try:
        fd = listener.fileno()
        with serve("eventloop", "hello", "--fd", str(fd), pass_fds=(fd,)) as url:
            assert url == f"http://127.0.0.1:{port}"
            assert httpx.get(url + "/").text == "Hello, world!"
    finally:
        listener.close()


def test_several_binds_one_readiness_line(serve, tmp_path: Path) -> None:
    path = tmp_path / "second.sock"
    with serve("eventloop", "json", "-b", "127.0.0.1:0", "-b", f"unix:{path}") as url:
        ready = [line for line in url.log().splitlines() if "listening on" in line]
        assert len(ready) == 1
        assert f"also=unix:{path}" in ready[0]
        assert httpx.get(url + "/").json() == {"message": "Hello, world!"}
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(path))) as client:
            assert client.get("http://localhost/").json() == {"message": "Hello, world!"}


def test_bind_failure_is_a_one_line_error() -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.runner.cli",
                "serve",
                "eventloop",
                "hello",
                "-b",
                f"127.0.0.1:{port}",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=20,
        )
    finally:
        holder.close()
    assert done.returncode == 1
    assert (
        done.stderr.strip() == f"bench: error: cannot bind 127.0.0.1:{port}: Address already in use"
    )


def test_workers_through_the_prefork_master(serve) -> None:
    with serve("eventloop", "hello", "-w", "2", ready_timeout=30) as url, httpx.Client() as client:
        for _ in range(10):
            reply = client.get(url + "/", headers={"Connection": "close"})
            assert reply.text == "Hello, world!"


def test_asyncio_loop(serve) -> None:
    with serve("eventloop", "json", "--loop", "asyncio") as url:
        assert "loop=asyncio" in url.log()
        assert httpx.post(url + "/", json={"a": 1}).json() == {"echo": {"a": 1}}
