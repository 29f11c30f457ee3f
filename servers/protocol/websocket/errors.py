"""Errors of the WebSocket core, in the protocol package's one hierarchy.

* ``HandshakeError`` — the opening handshake is refused. A server answers
  ``status_code`` (400, 426, ...) with ``headers`` (for example
  ``Sec-WebSocket-Version: 13`` with a 426); a client gives up on the connection.
* ``WebSocketProtocolError`` — the peer broke RFC 6455 after the handshake. It carries
  the close code to fail the connection with (1002 protocol error, 1007 invalid
  payload, 1009 message too big).

Misuse of the API on our side (sending after close, a control payload over 125 bytes)
raises the package's ``LocalProtocolError``.
"""

from __future__ import annotations

from bench.servers.protocol.errors import LocalProtocolError, RemoteProtocolError
from bench.servers.protocol.events import Headers

__all__ = [
    "HandshakeError",
    "InvalidPayload",
    "LocalProtocolError",
    "MessageTooBig",
    "WebSocketProtocolError",
]


class HandshakeError(RemoteProtocolError):
    """The opening handshake failed; a server answers ``status_code`` with ``headers``."""

    def __init__(
        self, message: str, status_code: int = 400, headers: Headers | None = None
    ) -> None:
        super().__init__(message, status_code)
        self.headers: Headers = list(headers or [])


class WebSocketProtocolError(RemoteProtocolError):
    """The peer violated RFC 6455; fail the connection with ``close_code``."""

    #: The close code sent in our Close frame when failing the connection.
    close_code: int = 1002

    def __init__(self, message: str, close_code: int | None = None) -> None:
        super().__init__(message)
        if close_code is not None:
            self.close_code = close_code


class InvalidPayload(WebSocketProtocolError):
    """A text message (or close reason) that is not valid UTF-8 (close code 1007)."""

    close_code = 1007


class MessageTooBig(WebSocketProtocolError):
    """A message larger than the configured limit (close code 1009)."""

    close_code = 1009
