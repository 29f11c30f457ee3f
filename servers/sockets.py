"""Listening sockets for both servers: parse a bind string, create the socket, describe it.

Bind strings (the ``-b``/``--bind`` option of ``bench serve``)::

    HOST:PORT        127.0.0.1:8000, localhost:0 (port 0: the OS picks a free port)
    :PORT            all IPv4 interfaces
    [V6ADDR]:PORT    [::1]:8000, [::]:8000
    HOST             port 8000
    unix:PATH        a Unix domain socket (a stale socket file at PATH is replaced)
    fd://N           an already-open listening socket inherited as file descriptor N

Sockets are returned listening and non-blocking, ready for an event loop or for a
prefork master to share with its children.
"""

from __future__ import annotations

import os
import socket
import stat
from dataclasses import dataclass
from typing import Literal

from bench.servers.errors import BindError

DEFAULT_PORT = 8000
DEFAULT_BACKLOG = 2048
#: How every bench server says it is ready, on stderr: ``bench: listening on URL (DETAILS)``
#: (the runner and the test servers wait for this line).
READY_PREFIX = "bench: listening on"


@dataclass(frozen=True, slots=True)
class BindSpec:
    """Where to listen: a TCP host and port, a Unix socket path, or an inherited fd."""

    kind: Literal["tcp", "unix", "fd"]
    host: str = ""
    port: int = 0
    path: str = ""
    fd: int = -1

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        if self.kind == "fd":
            return f"fd://{self.fd}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _parse_port(text: str, whole: str) -> int:
    """Return ``text`` as a TCP port number."""
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise BindError(f"bad port in bind address {whole!r}")
    return int(text)


def parse_bind(s: str) -> BindSpec:
    """Parse a bind string (see the module docstring) into a BindSpec; raise BindError."""
    text = s.strip()
    if not text:
        raise BindError("empty bind address")
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        if not path:
            raise BindError(f"no path in bind address {s!r}")
        return BindSpec("unix", path=path)
    if text.startswith("fd://"):
        number = text[len("fd://") :]
        if not number.isdigit():
            raise BindError(f"bad file descriptor in bind address {s!r}")
        return BindSpec("fd", fd=int(number))
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not host:
            raise BindError(f"bad IPv6 bind address {s!r}")
        if not rest:
            return BindSpec("tcp", host=host, port=DEFAULT_PORT)
        if not rest.startswith(":"):
            raise BindError(f"bad IPv6 bind address {s!r}")
        return BindSpec("tcp", host=host, port=_parse_port(rest[1:], s))
    if text.count(":") > 1:
        raise BindError(f"IPv6 addresses need brackets: [{text}]:PORT")
    host, colon, port = text.rpartition(":")
    if not colon:
        return BindSpec("tcp", host=text, port=DEFAULT_PORT)
    return BindSpec("tcp", host=host or "0.0.0.0", port=_parse_port(port, s))


def _tcp_listener(spec: BindSpec, reuse_port: bool) -> socket.socket:
    """Create and bind a TCP socket for ``spec`` (first address that binds wins)."""
    try:
        infos = socket.getaddrinfo(
            spec.host, spec.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise BindError(f"cannot resolve {spec.host!r}: {exc.strerror}") from None
    last_error: OSError | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    reason = last_error.strerror if last_error is not None else "no address"
    raise BindError(f"cannot bind {spec}: {reason}")


def _unix_listener(spec: BindSpec) -> socket.socket:
    """Create and bind a Unix socket at ``spec.path``, replacing a stale socket file."""
    try:
        if stat.S_ISSOCK(os.stat(spec.path).st_mode):
            os.unlink(spec.path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(spec.path)
    except OSError as exc:
        sock.close()
        raise BindError(f"cannot bind {spec}: {exc.strerror}") from None
    return sock


def create_listener(
    spec: BindSpec, *, reuse_port: bool = False, backlog: int = DEFAULT_BACKLOG
) -> socket.socket:
    """Return a listening, non-blocking socket for ``spec``; raise BindError on failure."""
    if spec.kind == "fd":
        try:
            sock = socket.socket(fileno=spec.fd)
        except OSError as exc:
            raise BindError(f"fd://{spec.fd} is not a socket: {exc.strerror}") from None
        if sock.type != socket.SOCK_STREAM:
            raise BindError(f"fd://{spec.fd} is not a stream socket")
    elif spec.kind == "unix":
        sock = _unix_listener(spec)
    else:
        sock = _tcp_listener(spec, reuse_port)
    try:
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise BindError(f"cannot listen on {spec}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def describe(sock: socket.socket) -> str:
    """Return a URL-like name of a listening socket: ``http://127.0.0.1:8000``, ``unix:/p``."""
    if sock.family == socket.AF_UNIX:
        name = sock.getsockname()
        return f"unix:{name.decode() if isinstance(name, bytes) else name}"
    host, port = sock.getsockname()[:2]
    if sock.family == socket.AF_INET6:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def send_nowait(sock: socket.socket, parts: list[memoryview]) -> bool:
    """Send what the socket takes now of ``parts``, without blocking; True once all is sent.

    ``parts`` is consumed in place: what was sent is dropped and the first part left is
    trimmed to its unsent rest, so a caller can hand the list to its poller and call
    again when the socket is writable. Raises OSError when the peer went away.
    """
    send = sock.send
    while parts:
        view = parts[0]
        sent = 0
        try:
            while sent < len(view):
                sent += send(view[sent:], socket.MSG_DONTWAIT)
        except BlockingIOError:
            parts[0] = view[sent:]
            return False
        del parts[0]
    return True
