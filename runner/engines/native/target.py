"""Where the load goes and what is sent: the URL, and the request bytes built by the core.

The request is serialized once, through the protocol core's client role
(``bench.servers.protocol.Connection``), and the same bytes are written for every request of
the run: the core validates headers and framing, and the hot path only writes bytes.

``https`` and ``wss`` targets connect over TLS (the event loop's own TLS transport). The
certificate and host name are verified against the system's trust store (or
``SSL_CERT_FILE``) unless the spec opts out (``tls_verify=False``: encrypted, unverified).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
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

_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
_TLS_SCHEMES = frozenset({"https", "wss"})
_USER_AGENT = b"bench-native"


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed load target.

    Attributes:
        scheme: ``http``, ``https``, ``ws`` or ``wss``.
        host: host name or address to connect to (no brackets for IPv6).
        port: TCP port.
        path: request target (path and query), as sent.
        authority: the ``Host`` header value.
        tls: the TLS context of an ``https``/``wss`` target, else None.
    """

    scheme: str
    host: str
    port: int
    path: bytes
    authority: bytes
    tls: ssl.SSLContext | None = field(default=None, compare=False)

    @property
    def websocket(self) -> bool:
        """Whether the target is a WebSocket URL."""
        return self.scheme in ("ws", "wss")

    async def connect(
        self,
        loop: asyncio.AbstractEventLoop,
        factory: Callable[[], asyncio.Protocol],
        notes: list[str] | None = None,
    ) -> None:
        """Open one connection (TLS for https/wss); a refused certificate is noted once."""
        try:
            if self.tls is None:
                await loop.create_connection(factory, self.host, self.port)
            else:
                await loop.create_connection(
                    factory, self.host, self.port, ssl=self.tls, server_hostname=self.host
                )
        except ssl.SSLCertVerificationError as exc:
            note = (
                f"TLS: the certificate of {self.host} was refused ({exc.verify_message}); "
                "trust its CA (SSL_CERT_FILE) or opt out of verification explicitly"
            )
            if notes is not None and note not in notes:
                notes.append(note)
            raise


def tls_context(verify: bool = True) -> ssl.SSLContext:
    """The client TLS context: verified (system trust store) unless ``verify`` is False."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def parse_target(url: str, *, verify: bool = True) -> Target:
    """Parse ``http(s)://host:port/path`` or ``ws(s)://…``; UsageError for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UsageError(
            f"unsupported URL scheme {parts.scheme!r} in {url!r} (http, https, ws, wss)"
        )
    if not parts.hostname:
        raise UsageError(f"URL without a host: {url!r}")
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    tls = tls_context(verify) if scheme in _TLS_SCHEMES else None
    return Target(scheme, parts.hostname, port, path.encode("ascii"), netloc.encode("ascii"), tls)


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
