"""What both ``bench serve`` subcommands share: the readiness line, one-line failures,
usage errors under the subcommand's own usage line, ``--param``, ``--reload``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from bench.runner.errors import BenchError, UsageError
from bench.servers.sockets import READY_PREFIX

#: Set in the environment of the server child of ``--reload``, which then serves.
RELOAD_CHILD = "BENCH_RELOAD_CHILD"


class ServeFailed(BenchError):
    """A server's fatal error shown as one line, keeping the server's exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def announce(url: str, details: str) -> None:
    """Print the one readiness line of a server process to stderr."""
    print(f"{READY_PREFIX} {url} ({details})", file=sys.stderr, flush=True)


def configure_logging(level: str) -> None:
    """Log to stderr, one line per record, prefixed with ``bench[pid]``."""
    from bench.servers.deploy import configure_logs

    configure_logs(level, access_target=None)


class StrictParser(argparse.ArgumentParser):
    """A subcommand parser that reports unknown arguments with its own usage line."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and getattr(parsed, "handler", None) is not None:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def guarded(parser: argparse.ArgumentParser, handler: Callable[..., int]) -> Callable[..., int]:
    """``handler`` whose UsageError is reported by ``parser`` (its usage line, exit 2)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except UsageError as exc:
            parser.error(str(exc))

    return run


def server_failed(exc: Any) -> ServeFailed:
    """A ``bench.servers.errors.ServerError`` as the one-line failure of ``bench serve``."""
    return ServeFailed(str(exc), exc.exit_code)


def apply_app_params(app: str, params: list[str] | None) -> None:
    """Export ``--param KEY=VALUE`` options as ``BENCH_APP_KEY`` environment variables.

    For a bundled app, each name and value is checked against the app's declared
    parameters (after exporting them: the app reads them when its module is imported).
    An import-string app gets them unchecked.

    Raises:
        UsageError: a malformed option, an unknown param or a value the app refuses.
    """
    from bench.servers.apps import AppLoadError, declared_params

    values: dict[str, str] = {}
    for item in params or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param expects KEY=VALUE, got {item!r}")
        name = key.strip().lower().replace("-", "_")
        values[name] = value
        os.environ["BENCH_APP_" + name.upper()] = value
    if not values or ":" in app:
        return
    try:
        declared_params(app).check(values)
    except AppLoadError as exc:
        raise UsageError(f"--param: {exc}") from None


def reload_child(argv: list[str], dirs: tuple[str, ...]) -> int:
    """``--reload``: serve from a child process restarted on file changes."""
    from bench.servers.errors import ConfigError
    from bench.servers.reload import run_with_reload

    command = [sys.executable, "-m", "bench.runner.cli", *(a for a in argv if a != "--reload")]
    os.environ[RELOAD_CHILD] = "1"  # the child serves (a config file may say reload too)
    try:
        return run_with_reload(command, dirs)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
