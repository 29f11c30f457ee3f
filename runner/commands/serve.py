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


def apply_app_params(params: list[str] | None) -> None:
    """Export ``--param KEY=VALUE`` options as ``BENCH_APP_KEY`` environment variables."""
    for item in params or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param expects KEY=VALUE, got {item!r}")
        os.environ["BENCH_APP_" + key.strip().upper().replace("-", "_")] = value


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
    parser = servers.add_parser(
        "eventloop",
        help="the ASGI server on uvloop (serves WSGI apps from a thread pool too)",
        description="bench's event-loop server: ASGI 3 over the sans-IO HTTP/1.1 core. "
        "Flag names follow uvicorn where uvicorn has the setting.",
    )
    _add_common(parser)
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
    add("-w", "--workers", type=int, default=1, metavar="N", help="worker processes")
    add("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="event loop")
    add("--interface", choices=("auto", "asgi", "wsgi"), default="auto", help="app interface")
    add("--lifespan", choices=("auto", "on", "off"), default="auto", help="ASGI lifespan")
    add("--limit-concurrency", type=int, metavar="N", help="503 beyond N requests in progress")
    add("--timeout-keep-alive", type=float, default=5.0, metavar="S", help="idle keep-alive")
    add(
        "--timeout-header-read",
        type=float,
        default=10.0,
        metavar="S",
        help="time a client has to send a complete request head (default 10)",
    )
    add(
        "--graceful-timeout",
        "--timeout-graceful-shutdown",
        dest="graceful_timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="on SIGTERM, time in-flight requests get to finish (default 30)",
    )
    add("--root-path", default="", metavar="PATH", help="ASGI root_path / WSGI SCRIPT_NAME")
    add("--no-server-header", action="store_true", help="do not send Server: bench")
    add("--threads", type=int, default=10, metavar="T", help="thread pool for a WSGI app")
    add("--backlog", type=int, default=2048, metavar="N", help="listen backlog")
    add("--limit-request-line", type=int, metavar="B", help="longest request line (414)")
    add("--limit-request-fields", type=int, metavar="N", help="most header fields (431)")
    add("--limit-request-field-size", type=int, metavar="B", help="longest header field (431)")
    add("--limit-request-body", type=int, metavar="B", help="largest request body (413)")
    add("--ws-max-size", type=int, default=16 * 1024 * 1024, metavar="B", help="WebSocket message")
    add("--ws-max-queue", type=int, default=32, metavar="N", help="WebSocket receive queue")
    add("--ws-ping-interval", type=float, default=20.0, metavar="S", help="WebSocket ping")
    add("--ws-ping-timeout", type=float, default=20.0, metavar="S", help="WebSocket pong wait")
    add(
        "--ws-per-message-deflate",
        choices=("true", "false"),
        default="true",
        help="WebSocket permessage-deflate",
    )
    parser.set_defaults(handler=_serve_eventloop)


def eventloop_config(args: argparse.Namespace) -> Any:
    """Build the ServerConfig of ``bench serve eventloop`` from parsed options."""
    from servers.asgi.config import ServerConfig
    from servers.asgi.errors import ConfigError
    from servers.protocol import Limits

    limit_fields = {
        "max_request_line": args.limit_request_line,
        "max_header_count": args.limit_request_fields,
        "max_header_field_size": args.limit_request_field_size,
        "max_body_size": args.limit_request_body,
    }
    try:
        return ServerConfig(
            loop=args.loop,
            interface=args.interface,
            limit_concurrency=args.limit_concurrency,
            timeout_keep_alive=args.timeout_keep_alive,
            timeout_header_read=args.timeout_header_read,
            timeout_graceful_shutdown=args.graceful_timeout,
            lifespan=args.lifespan,
            limits=Limits(**{k: v for k, v in limit_fields.items() if v is not None}),
            root_path=args.root_path.rstrip("/"),
            server_header=not args.no_server_header,
            wsgi_threads=args.threads,
            workers=args.workers,
            backlog=args.backlog,
            ws_max_size=args.ws_max_size,
            ws_max_queue=args.ws_max_queue,
            ws_ping_interval=args.ws_ping_interval or None,
            ws_ping_timeout=args.ws_ping_timeout or None,
            ws_per_message_deflate=args.ws_per_message_deflate == "true",
        )
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
    apply_app_params(args.param)
    config = eventloop_config(args)
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.workers > 1:
        return _serve_eventloop_workers(args, config)

    from servers.apps import AppLoadError, load_app
    from servers.asgi.server import run_worker
    from servers.sockets import BindError, create_listener, describe, parse_bind

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
    from servers.prefork.config import PreforkConfig
    from servers.prefork.errors import BindError, ConfigError, PreforkError
    from servers.prefork.master import serve_forever

    try:
        prefork = PreforkConfig(
            bind=tuple(_bind_strings(args)),
            workers=args.workers,
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
    except PreforkError as exc:  # a bad app exits 2, a worker that cannot boot 3, ...
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
