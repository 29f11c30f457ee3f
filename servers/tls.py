"""TLS for both servers: one ``ssl.SSLContext`` from the certificate settings.

HTTP/1.1 over TLS with the standard ``ssl`` module: TLS 1.2 or newer, ALPN offering
``http/1.1`` only (no HTTP/2 here). ``ca_certs`` loads the CAs that client
certificates are verified against; a client certificate is then optional but, when
sent, must verify.

The eventloop server hands the context to ``loop.create_server(ssl=...)``; the prefork
sync worker wraps its listeners (``wrap_listeners``): each accepted connection then
handshakes on its first read, inside the worker's usual error handling, so a client
that fails the handshake only loses its own connection.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from bench.servers.errors import ConfigError

#: The only application protocol offered by ALPN.
ALPN_PROTOCOLS: tuple[str, ...] = ("http/1.1",)


@dataclass(frozen=True, slots=True)
class TLSSettings:
    """Where the certificate and key are, and how to check client certificates."""

    certfile: str
    keyfile: str | None = None
    password: str | None = None
    ca_certs: str | None = None


def server_context(tls: TLSSettings) -> ssl.SSLContext:
    """A server-side SSLContext for ``tls``.

    Raises:
        ConfigError: a file is missing or unreadable, or the key does not match.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(tls.certfile, tls.keyfile, tls.password)
    except FileNotFoundError as exc:
        raise ConfigError(f"TLS: no such file: {exc.filename}") from None
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"TLS: cannot load {tls.certfile!r} / {tls.keyfile!r}: {exc}") from None
    if tls.ca_certs:
        try:
            context.load_verify_locations(tls.ca_certs)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"TLS: cannot load CA certificates {tls.ca_certs!r}: {exc}") from None
        context.verify_mode = ssl.CERT_OPTIONAL
    context.set_alpn_protocols(list(ALPN_PROTOCOLS))
    return context


def check(tls: TLSSettings | None) -> None:
    """Fail early (at start, in the parent) on settings that cannot make a context."""
    if tls is not None:
        server_context(tls)


def wrap_listeners(sockets: list[socket.socket], context: ssl.SSLContext) -> list[socket.socket]:
    """Listening sockets whose accepted connections speak TLS (handshake on first read)."""
    return [
        context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        for sock in sockets
    ]
