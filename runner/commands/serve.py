"""``bench serve SERVER APP ...``: run one of bench's own servers in the foreground.

One ``_register_<server>`` function adds each server's parser and one
``_serve_<server>`` handler runs it; ``SERVER_REGISTRARS`` lists them. Every server
prints exactly one readiness line to stderr once it accepts connections::

    bench: listening on http://127.0.0.1:8000 (eventloop asgi app=hello loop=uvloop workers=1 pid=42)

``APP`` is a bundled app (hello, json, ...) or ``module:attr``; ``--param K=V`` passes
``BENCH_APP_K=V`` to bundled apps.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from runner.commands.serve_prefork import register_prefork
from runner.errors import BenchError, LaunchError, UsageError
from runner.exit_codes import document

#: Readiness line prefix; the full line is ``bench: listening on URL (DETAILS)``.
READY_PREFIX = "bench: listening on"


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
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper()),
        format="bench[%(process)d] %(levelname)s: %(message)s",
    )


def apply_app_params(app: str, params: list[str] | None) -> None:
    """Export ``--param KEY=VALUE`` options as ``BENCH_APP_KEY`` environment variables.

    For a bundled app, each name and value is checked against the app's declared
    parameters (after exporting them: the app reads them when its module is imported).
    An import-string app gets them unchecked.

    Raises:
        UsageError: a malformed option, an unknown param or a value the app refuses.
    """
    from servers.apps import AppLoadError, declared_params

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


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", metavar="APP", help="bundled app name or module:attr")
    parser.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="parameter of a bundled app (exported as BENCH_APP_KEY); repeatable",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error"),
        help="log level (default info)",
    )


# -- eventloop --------------------------------------------------------------------------


def _register_eventloop(servers: Any) -> None:
    from servers.asgi.config import add_arguments

    parser = servers.add_parser(
        "eventloop",
        help="the ASGI server on uvloop (serves WSGI apps from a thread pool too)",
        description="bench's event-loop server: ASGI 3 over the sans-IO HTTP/1.1 core. "
        "Flag names follow uvicorn where uvicorn has the setting.",
    )
    _add_common(parser)
    document(parser, "serve")
    # Where to listen: not settings of the server but of this command (they become
    # sockets, or the prefork master's binds with -w N).
    add = parser.add_argument
    add(
        "-b",
        "--bind",
        action="append",
        metavar="ADDRESS",
        help="HOST:PORT, [IPV6]:PORT, unix:PATH or fd://N; repeatable (default 127.0.0.1:8000)",
    )
    add("--uds", metavar="PATH", help="listen on a Unix socket (same as -b unix:PATH)")
    add("--fd", type=int, metavar="N", help="listen on inherited socket N (same as -b fd://N)")
    add_arguments(parser)  # every ServerConfig setting, from its one definition
    parser.set_defaults(handler=_serve_eventloop)


def eventloop_config(args: argparse.Namespace) -> Any:
    """Build the ServerConfig of ``bench serve eventloop`` from parsed options."""
    from servers.asgi.config import from_namespace
    from servers.errors import ConfigError

    try:
        return from_namespace(args)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _bind_strings(args: argparse.Namespace) -> list[str]:
    binds = list(args.bind or [])
    if args.uds:
        binds.append(f"unix:{args.uds}")
    if args.fd is not None:
        binds.append(f"fd://{args.fd}")
    return binds or ["127.0.0.1:8000"]


def _serve_eventloop(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    apply_app_params(args.app, args.param)
    config = eventloop_config(args)
    if config.workers > 1:
        return _serve_eventloop_workers(args, config)

    from servers.apps import load_app
    from servers.asgi.server import run_worker
    from servers.errors import AppLoadError, BindError
    from servers.sockets import create_listener, describe, parse_bind

    try:
        app, interface = load_app(args.app, interface=config.interface)
    except AppLoadError as exc:
        raise UsageError(str(exc)) from None
    try:
        sockets = [
            create_listener(parse_bind(b), backlog=config.backlog) for b in _bind_strings(args)
        ]
    except BindError as exc:
        raise LaunchError(str(exc)) from None

    def ready() -> None:
        import asyncio

        loop_module = type(asyncio.get_running_loop()).__module__
        loop_name = "uvloop" if loop_module.startswith("uvloop") else "asyncio"
        others = " ".join(describe(s) for s in sockets[1:])
        details = (
            f"eventloop {interface} app={args.app} loop={loop_name} workers=1 pid={os.getpid()}"
        )
        announce(describe(sockets[0]), details + (f" also={others}" if others else ""))

    return run_worker(app, interface, config, sockets, ready=ready)


def _serve_eventloop_workers(args: argparse.Namespace, config: Any) -> int:
    """``-w N`` with N > 1: the prefork master runs N eventloop workers on shared sockets."""
    from servers.errors import BindError, ConfigError, ServerError
    from servers.prefork.config import PreforkConfig
    from servers.prefork.master import serve_forever

    try:
        prefork = PreforkConfig(
            bind=tuple(_bind_strings(args)),
            workers=config.workers,
            worker_class="eventloop",
            graceful_timeout=config.timeout_graceful_shutdown or 0.0,
            keep_alive=config.timeout_keep_alive,
            root_path=config.root_path,
            eventloop_config=config,
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        return serve_forever(prefork, args.app)
    except BindError as exc:
        raise LaunchError(str(exc)) from None
    except ServerError as exc:  # a bad app exits 2, a worker that cannot boot 3, ...
        raise ServeFailed(str(exc), exc.exit_code) from None


# -- the `serve` command ----------------------------------------------------------------

#: One registrar per server: each adds ``bench serve <server>`` to the subparsers.
SERVER_REGISTRARS: tuple[Callable[[Any], None], ...] = (_register_eventloop, register_prefork)


def register(subparsers: Any) -> None:
    """Add ``bench serve`` and its per-server subcommands."""
    parser = subparsers.add_parser(
        "serve",
        help="run one of bench's servers (eventloop, prefork) in the foreground",
        description="Run one of bench's own servers in the foreground until SIGTERM/SIGINT.",
    )
    servers = parser.add_subparsers(dest="server", metavar="SERVER")
    for registrar in SERVER_REGISTRARS:
        registrar(servers)

    def no_server(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    parser.set_defaults(handler=no_server)
