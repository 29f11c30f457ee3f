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
import os
import sys
from collections.abc import Callable
from typing import Any

from bench.runner import __version__
from bench.runner.commands._serve_common import (
    RELOAD_CHILD,
    ServeFailed,
    StrictParser,
    announce,
    apply_app_params,
    guarded,
    reload_child,
    server_failed,
)
from bench.runner.errors import LaunchError, UsageError
from bench.runner.exit_codes import document


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
    parser.add_argument("--version", action="version", version=f"bench {__version__}")


# -- eventloop --------------------------------------------------------------------------


def _register_eventloop(servers: Any) -> None:
    from bench.servers.asgi.config import add_arguments

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
    add("--host", metavar="HOST", help="listen on HOST (with --port; default 127.0.0.1)")
    add("--port", type=int, metavar="PORT", help="listen on PORT (with --host; default 8000)")
    add_arguments(parser)  # every ServerConfig setting, from its one definition
    parser.set_defaults(handler=guarded(parser, _serve_eventloop))


def eventloop_config(args: argparse.Namespace) -> Any:
    """Build the ServerConfig of ``bench serve eventloop`` from parsed options."""
    from bench.servers.asgi.config import from_namespace
    from bench.servers.errors import ConfigError

    try:
        return from_namespace(args)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _bind_strings(args: argparse.Namespace) -> list[str]:
    binds = list(args.bind or [])
    if args.host is not None or args.port is not None:
        host = args.host or "127.0.0.1"
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        binds.append(f"{host}:{8000 if args.port is None else args.port}")
    if args.uds:
        binds.append(f"unix:{args.uds}")
    if args.fd is not None:
        binds.append(f"fd://{args.fd}")
    return binds or ["127.0.0.1:8000"]


def _prepare(config: Any, log_level: str) -> None:
    """Environment, module path and logging before the app loads (servers.deploy)."""
    from bench.servers.deploy import add_app_dir, configure_logs, export, read_env_file
    from bench.servers.errors import ConfigError
    from bench.servers.tls import check

    try:
        configure_logs(
            log_level,
            access_target="-" if config.access_log else None,
            log_config=config.log_config,
        )
        if config.env_file:
            export(read_env_file(config.env_file))
        add_app_dir(config.app_dir)
        check(config.tls_settings())
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def interface_hint(exc: Any) -> str:
    """The one line of an app whose interface is not the one asked for."""
    return f"{exc}: use --interface {exc.found} (or auto)"


def _serve_eventloop(args: argparse.Namespace) -> int:
    config = eventloop_config(args)
    if config.reload and not os.environ.get(RELOAD_CHILD):
        return reload_child(sys.argv[1:], config.reload_dirs)
    _prepare(config, args.log_level)
    apply_app_params(args.app, args.param)
    if config.workers > 1:
        return _serve_eventloop_workers(args, config)

    from bench.servers.apps import AppInterfaceError, load_app
    from bench.servers.asgi.server import run_worker
    from bench.servers.errors import AppLoadError, BindError
    from bench.servers.sockets import create_listener, describe, parse_bind

    try:
        app, interface = load_app(args.app, interface=config.interface, factory=config.factory)
    except AppInterfaceError as exc:
        raise ServeFailed(interface_hint(exc), exc.exit_code) from None
    except AppLoadError as exc:  # not a usage problem: one line, exit 2
        raise server_failed(exc) from None
    try:
        sockets = [
            create_listener(parse_bind(b), backlog=config.backlog) for b in _bind_strings(args)
        ]
    except BindError as exc:
        raise LaunchError(str(exc)) from None
    tls = config.tls_settings() is not None

    def ready() -> None:
        import asyncio

        loop_module = type(asyncio.get_running_loop()).__module__
        loop_name = "uvloop" if loop_module.startswith("uvloop") else "asyncio"
        names = [describe(s) for s in sockets]
        if tls:
            names = [n.replace("http://", "https://", 1) for n in names]
        others = " ".join(names[1:])
        details = (
            f"eventloop {interface} app={args.app} loop={loop_name} workers=1 pid={os.getpid()}"
        )
        announce(names[0], details + (f" also={others}" if others else ""))

    return run_worker(app, interface, config, sockets, ready=ready)


def _serve_eventloop_workers(args: argparse.Namespace, config: Any) -> int:
    """``-w N`` with N > 1: the prefork master runs N eventloop workers on shared sockets."""
    from bench.servers.errors import BindError, ConfigError, ServerError
    from bench.servers.prefork.config import PreforkConfig
    from bench.servers.prefork.master import serve_forever

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
    from bench.servers.apps import factory_spec

    try:
        return serve_forever(prefork, factory_spec(args.app) if config.factory else args.app)
    except BindError as exc:
        raise LaunchError(str(exc)) from None
    except ServerError as exc:  # a bad app exits 2, a worker that cannot boot 3, ...
        raise ServeFailed(str(exc), exc.exit_code) from None


# -- the `serve` command ----------------------------------------------------------------


#: One registrar per server: each adds ``bench serve <server>`` to the subparsers.
def _register_prefork(servers: Any) -> None:
    from bench.runner.commands.serve_prefork import register_prefork

    register_prefork(servers)


SERVER_REGISTRARS: tuple[Callable[[Any], None], ...] = (_register_eventloop, _register_prefork)


def register(subparsers: Any) -> None:
    """Add ``bench serve`` and its per-server subcommands."""
    parser = subparsers.add_parser(
        "serve",
        help="run one of bench's servers (eventloop, prefork) in the foreground",
        description="Run one of bench's own servers in the foreground until SIGTERM/SIGINT.",
    )
    servers = parser.add_subparsers(dest="server", metavar="SERVER", parser_class=StrictParser)
    for registrar in SERVER_REGISTRARS:
        registrar(servers)

    def no_server(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    parser.set_defaults(handler=no_server)
