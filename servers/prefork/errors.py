"""Errors of the prefork server: each is one line for the user, with the exit code to use."""

from __future__ import annotations

#: A worker could not boot (an error outside the app import): gunicorn's WORKER_BOOT_ERROR.
BOOT_ERROR = 3
#: A worker could not import or build the application: gunicorn's APP_LOAD_ERROR.
APP_LOAD_ERROR = 4


class PreforkError(Exception):
    """An error that stops the prefork server; ``str(error)`` is one line for the user."""

    exit_code: int = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(PreforkError):
    """Settings that cannot work together (for example ``--threads 0``)."""

    exit_code = 2


class BindError(PreforkError):
    """A listening address could not be bound."""


class AppLoadFailed(PreforkError):
    """The application could not be imported (in the master with --preload, or in a worker).

    The master exits 2 ("bad input", like every bench command given an app it cannot
    load); ``APP_LOAD_ERROR`` is only the worker's exit code telling the master why.
    """

    exit_code = 2


class WorkerBootFailed(PreforkError):
    """Workers failed while booting, so the master stopped instead of restarting them forever."""

    exit_code = BOOT_ERROR
