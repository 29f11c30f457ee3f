"""Proxy headers: the client address and scheme a trusted reverse proxy reports.

Behind a proxy, the connection's peer is the proxy. With proxy headers on, a request
whose peer is trusted (``--forwarded-allow-ips``: addresses or CIDR networks,
comma-separated, ``*`` for any; default ``127.0.0.1`` as in uvicorn) has its client
address and scheme taken from the headers the proxy set:

- RFC 7239 ``Forwarded: for=192.0.2.60;proto=https, for=10.0.0.2`` when present, else
- ``X-Forwarded-For: 192.0.2.60, 10.0.0.2`` and ``X-Forwarded-Proto: https``.

Each proxy appends the address it received the request from, so the chain is read
from the right: trusted proxies are skipped and the first untrusted address is the
client (a client cannot forge its way past the proxies, only prepend entries). If
every hop is trusted, the leftmost one is the client. A request from an untrusted
peer keeps its peer address and scheme: its headers are ignored. A Unix-socket peer
(no address) is on this host and is trusted.

ASGI: ``scope["client"]`` and ``scope["scheme"]`` (``ws``/``wss`` for WebSocket);
WSGI: ``REMOTE_ADDR``, ``wsgi.url_scheme`` and ``HTTPS``. Nothing of this runs unless
proxy headers are on (``bench.servers.deploy`` installs the middleware).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from bench.servers.errors import ConfigError

_SCHEMES = frozenset({"http", "https", "ws", "wss"})
_WEBSOCKET_SCHEME = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
_HTTP_SCHEME = {"http": "http", "https": "https", "ws": "http", "wss": "https"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The peers whose proxy headers are believed: addresses, CIDR networks or ``*``."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.everyone = "*" in items
        self.networks: list[Network] = []
        for item in items:
            if item == "*":
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ConfigError(
                    f"--forwarded-allow-ips: {item!r} is not an IP address or CIDR network"
                ) from None

    def __contains__(self, host: object) -> bool:
        if host is None:
            return True  # a Unix-socket peer: this host
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address(str(host))
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, chain: list[str]) -> int:
        """Index in ``chain`` (left to right) of the client: the rightmost untrusted hop."""
        for index in range(len(chain) - 1, -1, -1):
            if chain[index] not in self:
                return index
        return 0


def _node(value: str) -> str:
    """An address from a ``for=`` value or X-Forwarded-For item (no quotes, port, brackets)."""
    value = value.strip().strip('"').strip()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def parse_forwarded(value: str) -> list[dict[str, str]]:
    """The elements of an RFC 7239 ``Forwarded`` value, each a dict of lower-case params."""
    elements: list[dict[str, str]] = []
    for element in value.split(","):
        params: dict[str, str] = {}
        for pair in element.split(";"):
            name, sep, raw = pair.partition("=")
            if sep:
                params[name.strip().lower()] = raw.strip().strip('"')
        if params:
            elements.append(params)
    return elements


def resolve(
    trusted: TrustedProxies, peer: str | None, header: Callable[[str], str | None]
) -> tuple[str | None, str | None]:
    """(client address, scheme) the proxy headers give, each None when not given.

    ``header(name)`` returns the request's header of lower-case ``name`` (or None).
    Returns (None, None) when ``peer`` is not trusted.
    """
    if peer not in trusted:
        return None, None
    forwarded = header("forwarded")
    if forwarded:
        elements = [e for e in parse_forwarded(forwarded) if "for" in e]
        if elements:
            chosen = elements[trusted.client([_node(e["for"]) for e in elements])]
            proto = chosen.get("proto", "").lower()
            return _node(chosen["for"]), proto if proto in _SCHEMES else None
    client = None
    xff = header("x-forwarded-for")
    if xff:
        chain = [_node(item) for item in xff.split(",") if item.strip()]
        if chain:
            client = chain[trusted.client(chain)]
    proto = (header("x-forwarded-proto") or "").split(",")[0].strip().lower()
    return client, proto if proto in _SCHEMES else None


class AsgiProxyHeaders:
    """ASGI middleware: ``client`` and ``scheme`` from a trusted proxy's headers."""

    def __init__(self, app: Callable[..., Any], trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind in ("http", "websocket"):
            peer = scope.get("client")
            headers = scope.get("headers") or ()

            def header(name: str) -> str | None:
                wanted = name.encode("latin-1")
                values = [v.decode("latin-1") for k, v in headers if k.lower() == wanted]
                return ", ".join(values) if values else None

            client, proto = resolve(self.trusted, peer[0] if peer else None, header)
            if client is not None or proto is not None:
                scope = dict(scope)
                if client is not None:
                    scope["client"] = (client, 0)
                if proto is not None:
                    table = _WEBSOCKET_SCHEME if kind == "websocket" else _HTTP_SCHEME
                    scope["scheme"] = table[proto]
        await self.app(scope, receive, send)


class WsgiProxyHeaders:
    """WSGI middleware: ``REMOTE_ADDR`` and ``wsgi.url_scheme`` from a trusted proxy."""

    def __init__(self, app: Callable[..., Any], trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def header(name: str) -> str | None:
            return environ.get("HTTP_" + name.upper().replace("-", "_"))

        client, proto = resolve(self.trusted, environ.get("REMOTE_ADDR"), header)
        if client is not None:
            environ["REMOTE_ADDR"] = client
            environ.pop("REMOTE_PORT", None)
        if proto is not None:
            scheme = _HTTP_SCHEME[proto]
            environ["wsgi.url_scheme"] = scheme
            if scheme == "https":
                environ["HTTPS"] = "on"
            else:
                environ.pop("HTTPS", None)
        return self.app(environ, start_response)
