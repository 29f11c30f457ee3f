"""Errors of the protocol core.

``RemoteProtocolError``: the peer sent something we must refuse. It carries the HTTP
status a server answers with (400, 413, 414, 431, 501, 505), after which the connection
is closed. ``LocalProtocolError``: our own side misused the API (for example a header
value with CR/LF, or more body than the declared Content-Length); a server answers 500
if it still can.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every protocol error; ``status_code`` is the HTTP status to answer with."""

    status_code: int = 400

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        if status_code is not None:
            self.status_code = status_code


class RemoteProtocolError(ProtocolError):
    """The peer violated the protocol; answer ``status_code`` (if still possible) and close."""


class LocalProtocolError(ProtocolError):
    """This side tried to do something the protocol forbids (a bug in the caller)."""

    status_code = 500
