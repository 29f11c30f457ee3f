"""Errors of the eventloop server (``servers.asgi``): one hierarchy, one-line messages."""

from __future__ import annotations


class ServerError(Exception):
    """Base class: the server cannot start or run; ``exit_code`` is the process exit code."""

    exit_code: int = 1


class ConfigError(ServerError):
    """A ServerConfig value out of range (bad user input)."""

    exit_code = 2


class LifespanError(ServerError):
    """The application's lifespan startup failed (or failed to answer with ``lifespan=on``)."""

    exit_code = 3


class ClientDisconnected(OSError):
    """Raised by ``send()`` when the client has gone (ASGI HTTP spec 2.4).

    The server never logs it as an application error.
    """
