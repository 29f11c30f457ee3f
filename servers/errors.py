"""The errors of bench's servers: one hierarchy for the eventloop and prefork servers.

Every error that stops a server is a ``ServerError`` whose ``str()`` is one line for the
user and whose ``exit_code`` is the process exit code the CLI keeps: 2 for bad input (a
setting out of range, an app that cannot be loaded), 3 when the server cannot boot (the
app's lifespan startup failed, workers die while booting), 1 otherwise.

``ClientDisconnected`` is the condition "the client went away" raised by a response
write; it is an ``OSError`` as the ASGI spec (2.4) asks, and never logged as an app error.

The protocol core (``bench.servers.protocol``) keeps its own ``ProtocolError`` family: it
carries the HTTP status to answer with and the core imports nothing outside itself.
"""

from __future__ import annotations

#: A prefork worker's exit code: it could not boot (gunicorn's WORKER_BOOT_ERROR).
BOOT_ERROR = 3
#: A prefork worker's exit code: it could not import or build the app (APP_LOAD_ERROR).
APP_LOAD_ERROR = 4


class ServerError(Exception):
    """Base class: the server cannot start or run; ``exit_code`` is the process exit code."""

    exit_code: int = 1

    def __init__(self, message: str = "", exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(ServerError):
    """A setting out of range, or settings that cannot work together (bad user input)."""

    exit_code = 2


class BindError(ServerError):
    """A bind string that does not parse, or an address that cannot be bound."""


class AppLoadError(ServerError):
    """The app spec cannot be loaded (bad spec, failed import or factory): bad input.

    A prefork worker that cannot load the app exits ``APP_LOAD_ERROR`` to tell the
    master why; the master then raises this error and exits 2.
    """

    exit_code = 2


class AppInterfaceError(AppLoadError):
    """The app's interface (ASGI or WSGI) is not the one the chosen server path serves.

    ``found`` is the interface the app has ("asgi" or "wsgi"); the message names the
    worker class or ``--interface`` to use instead.
    """

    def __init__(self, message: str, found: str) -> None:
        super().__init__(message)
        self.found = found


class AppParamError(AppLoadError):
    """A bundled app's parameter that is unknown, or whose value it refuses: bad input."""


class LifespanError(ServerError):
    """The application's lifespan startup failed (or did not answer with ``lifespan=on``)."""

    exit_code = 3


class WorkerBootFailed(ServerError):
    """Prefork workers failed while booting, so the master stopped instead of restarting them."""

    exit_code = BOOT_ERROR


class ClientDisconnected(ServerError, OSError):
    """Raised by a response write when the client has gone (ASGI HTTP spec 2.4: an OSError).

    The servers never log it as an application error.
    """
