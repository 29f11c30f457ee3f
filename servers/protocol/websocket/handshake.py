"""The opening handshake (RFC 6455 section 4) on top of the HTTP/1.1 core's events.

Server: the HTTP connection yields a ``Request``; ``is_websocket_upgrade`` says whether
it asks for WebSocket, ``validate_request`` checks it (GET, HTTP/1.1, ``Connection:
upgrade``, ``Upgrade: websocket``, a 16-byte base64 ``Sec-WebSocket-Key``, version 13
— else ``HandshakeError`` with 400, or 426 and ``Sec-WebSocket-Version: 13``) and
returns the offer; ``accept`` picks the subprotocol and negotiates permessage-deflate
and returns the ``InformationalResponse(101)`` to send through the HTTP connection.
``rejection`` turns a HandshakeError into the plain response to send instead.

Client: ``ClientHandshake.start`` builds the upgrade ``Request`` (the caller sends it
through a client-role HTTP connection); ``ClientHandshake.validate`` checks the
response and returns the negotiated result. Either side then builds its
``WSConnection`` with ``Accepted.connection``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from bench.servers.protocol.errors import LocalProtocolError
from bench.servers.protocol.events import Headers, InformationalResponse, Request, Response
from bench.servers.protocol.http11 import Role
from bench.servers.protocol.websocket.connection import DEFAULT_MAX_MESSAGE_SIZE, WSConnection
from bench.servers.protocol.websocket.deflate import (
    DeflateConfig,
    DeflateParams,
    PerMessageDeflate,
    client_offer,
    negotiate_client,
    negotiate_server,
)
from bench.servers.protocol.websocket.errors import HandshakeError
from bench.servers.protocol.websocket.headers import (
    ExtensionItem,
    has_token,
    header_values,
    parse_extensions,
    token_list,
)

#: The GUID appended to the key before hashing (RFC 6455 section 1.3).
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: The only protocol version we speak.
WS_VERSION = b"13"
_KEY_BYTES = 16


def accept_token(key: bytes) -> bytes:
    """Return the ``Sec-WebSocket-Accept`` value for a ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key + WS_GUID).digest())


def is_websocket_upgrade(request: Request) -> bool:
    """True if ``request`` asks to switch to WebSocket: the one rule every server uses.

    An HTTP/1.1 request with ``Upgrade: websocket`` listed as an upgrade in
    ``Connection`` (tokens, any case; RFC 9110 §7.8, RFC 6455 §4.1). Whether it is a
    valid opening handshake (GET, key, version) is ``validate_request``'s question.
    A server may skip the scan when ``Connection.upgrade_requested`` is false: the HTTP
    core already found no ``Connection: upgrade`` with an Upgrade field in HTTP/1.1.
    """
    headers = request.headers
    return (
        request.http_version == b"1.1"
        and has_token(header_values(headers, b"upgrade"), "websocket")
        and has_token(header_values(headers, b"connection"), "upgrade")
    )


@dataclass(frozen=True, slots=True)
class Offer:
    """A valid opening handshake request, as the server read it."""

    request: Request
    key: bytes
    #: Subprotocols the client offered, in its order of preference.
    subprotocols: tuple[str, ...] = ()
    #: Extensions the client offered (name, parameters).
    extensions: tuple[ExtensionItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Accepted:
    """The outcome of a successful handshake, on either side."""

    subprotocol: str | None = None
    deflate: DeflateParams | None = None
    #: Server: the 101 response to send. Client: the 101 response received.
    response: InformationalResponse | None = None
    #: The compression level our side compresses with (from the DeflateConfig).
    level: int = 6

    def connection(
        self, role: Role, *, max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE
    ) -> WSConnection:
        """Return the WSConnection for this handshake's negotiated parameters."""
        codec = None
        if self.deflate is not None:
            codec = PerMessageDeflate(self.deflate, is_server=role is Role.SERVER, level=self.level)
        return WSConnection(
            role, max_message_size=max_message_size, deflate=codec, subprotocol=self.subprotocol
        )


def _version_error(message: str) -> HandshakeError:
    return HandshakeError(message, 426, [(b"Sec-WebSocket-Version", WS_VERSION)])


def validate_request(request: Request) -> Offer:
    """Check a WebSocket upgrade request; return the client's offer.

    Raises HandshakeError: 400 for a malformed request, 426 (with
    ``Sec-WebSocket-Version: 13``) for a missing or other version.
    """
    headers = request.headers
    if request.method != b"GET":
        raise HandshakeError("WebSocket handshake must be a GET request")
    if request.http_version != b"1.1":
        raise HandshakeError("WebSocket handshake needs HTTP/1.1")
    if not has_token(header_values(headers, b"upgrade"), "websocket"):
        raise HandshakeError("missing Upgrade: websocket")
    if not has_token(header_values(headers, b"connection"), "upgrade"):
        raise HandshakeError("missing Connection: upgrade")
    versions = header_values(headers, b"sec-websocket-version")
    if versions != [WS_VERSION]:
        raise _version_error("unsupported Sec-WebSocket-Version (13 only)")
    keys = header_values(headers, b"sec-websocket-key")
    if len(keys) != 1:
        raise HandshakeError("need exactly one Sec-WebSocket-Key")
    key = keys[0].strip()
    try:
        raw = base64.b64decode(key, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != _KEY_BYTES:
        raise HandshakeError("invalid Sec-WebSocket-Key")
    subprotocols = token_list(header_values(headers, b"sec-websocket-protocol"))
    extensions = parse_extensions(header_values(headers, b"sec-websocket-extensions"))
    return Offer(request, key, tuple(subprotocols), tuple(extensions))


def accept(
    offer: Offer,
    *,
    subprotocol: str | None = None,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
    deflate: DeflateConfig | None = None,
) -> Accepted:
    """Accept ``offer``: return the 101 response and the negotiated parameters.

    ``deflate`` None refuses compression; otherwise permessage-deflate is negotiated
    within its limits. Raises LocalProtocolError for a subprotocol the client did not
    offer.
    """
    if subprotocol is not None and subprotocol not in offer.subprotocols:
        raise LocalProtocolError(f"subprotocol {subprotocol!r} was not offered by the client")
    headers: Headers = [
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Accept", accept_token(offer.key)),
    ]
    if subprotocol is not None:
        headers.append((b"Sec-WebSocket-Protocol", subprotocol.encode("latin-1")))
    params = None
    if deflate is not None and offer.extensions:
        params = negotiate_server(list(offer.extensions), deflate)
        if params is not None:
            headers.append((b"Sec-WebSocket-Extensions", params.header_value()))
    headers.extend(extra_headers)
    level = deflate.level if deflate is not None else 6
    return Accepted(subprotocol, params, InformationalResponse(101, headers), level)


def rejection(exc: HandshakeError) -> tuple[Response, bytes]:
    """Return the response head and body a server sends for a refused handshake."""
    body = f"{exc}\n".encode()
    headers: Headers = [
        (b"Content-Type", b"text/plain; charset=utf-8"),
        (b"Content-Length", str(len(body)).encode()),
        *exc.headers,
    ]
    return Response(exc.status_code, headers), body


@dataclass(frozen=True, slots=True)
class ClientHandshake:
    """The client half of the opening handshake; build it with ``start``."""

    request: Request
    key: bytes
    subprotocols: tuple[str, ...] = ()
    deflate: DeflateConfig | None = None

    @classmethod
    def start(
        cls,
        host: str,
        target: str = "/",
        *,
        subprotocols: Sequence[str] = (),
        deflate: DeflateConfig | None = None,
        extra_headers: Sequence[tuple[bytes, bytes]] = (),
        key: bytes | None = None,
    ) -> ClientHandshake:
        """Return the handshake whose ``request`` asks ``host`` to upgrade ``target``."""
        if key is None:
            key = base64.b64encode(secrets.token_bytes(_KEY_BYTES))
        headers: Headers = [
            (b"Host", host.encode("idna")),
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Key", key),
            (b"Sec-WebSocket-Version", WS_VERSION),
        ]
        if subprotocols:
            headers.append((b"Sec-WebSocket-Protocol", ", ".join(subprotocols).encode("latin-1")))
        if deflate is not None:
            headers.append((b"Sec-WebSocket-Extensions", client_offer(deflate)))
        headers.extend(extra_headers)
        request = Request(b"GET", target.encode("latin-1"), headers)
        return cls(request, key, tuple(subprotocols), deflate)

    def validate(self, response: InformationalResponse | Response) -> Accepted:
        """Check the server's answer; return the negotiated parameters.

        Raises HandshakeError (``status_code`` is the server's status when it did not
        switch protocols).
        """
        if response.status_code != 101:
            raise HandshakeError(
                f"server answered {response.status_code} instead of 101", response.status_code
            )
        headers = response.headers
        if not has_token(header_values(headers, b"upgrade"), "websocket"):
            raise HandshakeError("101 response without Upgrade: websocket")
        if not has_token(header_values(headers, b"connection"), "upgrade"):
            raise HandshakeError("101 response without Connection: upgrade")
        if header_values(headers, b"sec-websocket-accept") != [accept_token(self.key)]:
            raise HandshakeError("wrong Sec-WebSocket-Accept")
        chosen = token_list(header_values(headers, b"sec-websocket-protocol"))
        if len(chosen) > 1 or (chosen and chosen[0] not in self.subprotocols):
            raise HandshakeError(f"server chose a subprotocol we did not offer: {chosen}")
        answer = parse_extensions(header_values(headers, b"sec-websocket-extensions"))
        params = None
        if self.deflate is not None:
            params = negotiate_client(answer, self.deflate)
        elif answer:
            raise HandshakeError("server accepted an extension we did not offer")
        level = self.deflate.level if self.deflate is not None else 6
        assert isinstance(response, InformationalResponse)
        return Accepted(chosen[0] if chosen else None, params, response, level)
