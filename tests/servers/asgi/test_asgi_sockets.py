"""bench.servers.sockets: bind strings, listeners for TCP (v4/v6), Unix sockets and inherited fds."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bench.servers.sockets import BindError, BindSpec, create_listener, describe, parse_bind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8000", BindSpec("tcp", host="127.0.0.1", port=8000)),
        ("localhost:0", BindSpec("tcp", host="localhost", port=0)),
        (":9000", BindSpec("tcp", host="0.0.0.0", port=9000)),
        ("example.org", BindSpec("tcp", host="example.org", port=8000)),
        ("[::1]:8080", BindSpec("tcp", host="::1", port=8080)),
        ("[::]", BindSpec("tcp", host="::", port=8000)),
        ("unix:/tmp/x.sock", BindSpec("unix", path="/tmp/x.sock")),
        ("fd://3", BindSpec("fd", fd=3)),
    ],
)
def test_parse_bind(text: str, expected: BindSpec) -> None:
    assert parse_bind(text) == expected


@pytest.mark.parametrize(
    "text", ["", "host:port", "1.2.3.4:70000", "::1:80", "[::1", "[::1]80", "unix:", "fd://x"]
)
def test_parse_bind_refuses(text: str) -> None:
    with pytest.raises(BindError):
        parse_bind(text)


def test_str_round_trips() -> None:
    for text in ("127.0.0.1:80", "[::1]:80", "unix:/a/b", "fd://4"):
        assert str(parse_bind(text)) == text


def _roundtrip(listener: socket.socket) -> bytes:
    client = socket.socket(listener.family, socket.SOCK_STREAM)
    client.settimeout(5)
    client.connect(listener.getsockname())
    listener.setblocking(True)
    listener.settimeout(5)
    conn, _ = listener.accept()
    client.sendall(b"ping")
    data = conn.recv(4)
    for s in (client, conn):
        s.close()
    return data


def test_tcp_listener_on_port_zero() -> None:
    listener = create_listener(parse_bind("127.0.0.1:0"))
    try:
        assert not listener.getblocking()
        url = describe(listener)
        assert url.startswith("http://127.0.0.1:")
        assert int(url.rsplit(":", 1)[1]) > 0
        assert _roundtrip(listener) == b"ping"
    finally:
        listener.close()


def test_ipv6_listener() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        listener = create_listener(parse_bind("[::1]:0"))
    except BindError:
        pytest.skip("::1 not available")
    try:
        assert describe(listener).startswith("http://[::1]:")
        assert _roundtrip(listener) == b"ping"
    finally:
        listener.close()


def test_unix_listener_replaces_stale_socket(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays behind, as after a crash
    listener = create_listener(parse_bind(f"unix:{path}"))
    try:
        assert describe(listener) == f"unix:{path}"
        assert _roundtrip(listener) == b"ping"
    finally:
        listener.close()


def test_unix_listener_does_not_replace_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("keep me")
    with pytest.raises(BindError):
        create_listener(parse_bind(f"unix:{path}"))
    assert path.read_text() == "keep me"


def test_inherited_fd() -> None:
    original = socket.socket()
    original.bind(("127.0.0.1", 0))
    fd = os.dup(original.fileno())
    port = original.getsockname()[1]
    original.close()
    listener = create_listener(parse_bind(f"fd://{fd}"))
    try:
        assert describe(listener) == f"http://127.0.0.1:{port}"
        assert _roundtrip(listener) == b"ping"
    finally:
        listener.close()


def test_address_in_use_is_a_bind_error() -> None:
    first = create_listener(parse_bind("127.0.0.1:0"))
    try:
        port = first.getsockname()[1]
        with pytest.raises(BindError, match="cannot bind"):
            create_listener(parse_bind(f"127.0.0.1:{port}"))
    finally:
        first.close()


def test_reuse_port_allows_two_listeners() -> None:
    first = create_listener(parse_bind("127.0.0.1:0"), reuse_port=True)
    try:
        port = first.getsockname()[1]
        second = create_listener(parse_bind(f"127.0.0.1:{port}"), reuse_port=True)
        second.close()
    finally:
        first.close()
