"""Where the load goes and what is sent: the URL, and the request bytes built by the core.

The request is serialized once, through the protocol core's client role
(``bench.servers.protocol.Connection``), and the same bytes are written for every request of
the run: the core validates headers and framing, and the hot path only writes bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.runner.errors import UsageError
from bench.runner.loadspec import LoadSpec
from bench.servers.protocol import (
    END_OF_MESSAGE,
    Connection,
    Data,
    LocalProtocolError,
    Request,
    Role,
)

_DEFAULT_PORTS = {"http": 80, "ws": 80}
_USER_AGENT = b"bench-native"


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed load target.

    Attributes:
        scheme: ``http`` or ``ws``.
        host: host name or address to connect to (no brackets for IPv6).
        port: TCP port.
        path: request target (path and query), as sent.
        authority: the ``Host`` header value.
    """

    scheme: str
    host: str
    port: int
    path: bytes
    authority: bytes

    @property
    def websocket(self) -> bool:
        """Whether the target is a WebSocket URL."""
        return self.scheme == "ws"


def parse_target(url: str) -> Target:
    """Parse ``http://host:port/path`` or ``ws://…``; UsageError for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        hint = " (TLS is not supported)" if scheme in ("https", "wss") else ""
        raise UsageError(f"unsupported URL scheme {parts.scheme!r} in {url!r}{hint}")
    if not parts.hostname:
        raise UsageError(f"URL without a host: {url!r}")
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return Target(scheme, parts.hostname, port, path.encode("ascii"), netloc.encode("ascii"))


def build_request(target: Target, spec: LoadSpec) -> bytes:
    """The request bytes for ``spec``, serialized (and validated) by the protocol core.

    A body gets a Content-Length unless the spec's headers frame it themselves. Raises
    UsageError for headers the core refuses (CR/LF, bad names, bad framing).
    """
    names = {name.lower() for name, _ in spec.headers}
    headers: list[tuple[bytes, bytes]] = []
    if "host" not in names:
        headers.append((b"host", target.authority))
    if "user-agent" not in names:
        headers.append((b"user-agent", _USER_AGENT))
    try:
        headers += [(n.encode("latin-1"), v.encode("latin-1")) for n, v in spec.headers]
    except UnicodeEncodeError as exc:
        raise UsageError(f"header not encodable as latin-1: {exc}") from None
    framed = "content-length" in names or "transfer-encoding" in names
    if spec.body and not framed:
        headers.append((b"content-length", b"%d" % len(spec.body)))
    conn = Connection(Role.CLIENT)
    try:
        out = conn.send(Request(spec.method.upper().encode("ascii"), target.path, headers))
        if spec.body:
            out += conn.send(Data(spec.body))
        out += conn.send(END_OF_MESSAGE)
    except (LocalProtocolError, UnicodeEncodeError) as exc:
        raise UsageError(f"invalid request: {exc}") from None
    return out
