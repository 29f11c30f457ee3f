"""``bench serve prefork APP``: the prefork WSGI server (gunicorn's flag names).

Every option comes from the settings of ``bench.servers.prefork.config.PreforkConfig``
(one definition per setting drives this parser); ``APP`` and ``--param`` are shared
with the other ``bench serve`` servers. ``-c CONFIG.py`` reads a gunicorn-style
config file (``bench.servers.prefork.config_file``; flags override it) and
``--check-config`` validates file, flags and app, then exits. ``APP`` without
``:attr`` means ``module:application``, as in gunicorn. Signals: TERM graceful stop,
INT/QUIT fast stop, HUP reload (fresh workers first), TTIN/TTOU one worker more/less.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from bench.runner import __version__
from bench.runner.commands._serve_common import (
    RELOAD_CHILD,
    apply_app_params,
    guarded,
    reload_child,
    server_failed,
)
from bench.runner.errors import LaunchError, UsageError
from bench.runner.exit_codes import document


def register_prefork(servers: Any) -> None:
    """Add ``bench serve prefork`` to the ``bench serve`` subparsers."""
    from bench.servers.prefork.config import add_arguments

    parser = servers.add_parser(
        "prefork",
        help="the prefork WSGI server: a master and sync, thread or eventloop workers",
        description="bench's prefork server: a master process supervising worker "
        "processes (heartbeat, reload on HUP, graceful stop on TERM). Flag names follow "
        "gunicorn where gunicorn has the setting.",
    )
    document(parser, "serve")
    parser.add_argument(
        "app",
        metavar="APP",
        nargs="?",
        help="bundled app name, module:attr, or a module (its 'application'); "
        "may come from the config file's wsgi_app",
    )
    parser.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="parameter of a bundled app (exported as BENCH_APP_KEY); repeatable",
    )
    parser.add_argument(
        "-c",
        "--config",
        metavar="CONFIG.py",
        help="a gunicorn-style Python config file (module-level setting names); "
        "command-line flags override it",
    )
    parser.add_argument(
        "--check-config",
        action="store_true",
        help="check the config (file, flags, app) and exit: 0 when it is valid",
    )
    parser.add_argument("--version", action="version", version=f"bench {__version__}")
    add_arguments(parser)
    parser.set_defaults(handler=guarded(parser, _serve_prefork))


def prefork_config(args: argparse.Namespace) -> tuple[Any, str]:
    """The PreforkConfig and app spec of ``bench serve prefork`` (file, then flags)."""
    from bench.servers import settings
    from bench.servers.errors import ConfigError
    from bench.servers.prefork.config import PreforkConfig
    from bench.servers.prefork.config_file import merged_config, read_config_file

    try:
        file_values, file_app = read_config_file(args.config) if args.config else ({}, None)
        config = merged_config(file_values, settings.namespace_values(PreforkConfig, args))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    app = args.app or file_app
    if not app:
        raise UsageError("the following arguments are required: APP (or wsgi_app in -c FILE)")
    return config, app


def _prepare(config: Any) -> None:
    """Logs, environment and TLS files, checked and set up in the master."""
    from bench.servers.deploy import configure_logs, export, parse_env_pairs
    from bench.servers.errors import ConfigError
    from bench.servers.tls import check

    try:
        configure_logs(
            config.log_level,
            access_target=config.access_logfile,
            error_target=config.error_logfile,
            log_config=config.log_config,
        )
        export(parse_env_pairs(config.env))
        check(config.tls_settings())
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _check(config: Any, app: str) -> int:
    """``--check-config``: load the app as a worker would, in this process; 0 if it loads."""
    from bench.servers.errors import AppLoadError
    from bench.servers.prefork.workers import load_worker_app

    if config.chdir or config.pythonpath:
        if config.chdir:
            os.chdir(config.chdir)
        sys.path[:0] = [p for p in (config.pythonpath or "").split(",") if p]
    try:
        load_worker_app(config, app)
    except AppLoadError as exc:
        raise server_failed(exc) from None
    print(f"bench: config OK: {config.describe()}, app {app}", file=sys.stderr)
    return 0


def _serve_prefork(args: argparse.Namespace) -> int:
    from bench.servers.errors import BindError, ServerError
    from bench.servers.prefork import serve

    config, app = prefork_config(args)
    if config.reload and not args.check_config and not os.environ.get(RELOAD_CHILD):
        watched = [config.chdir, *(config.pythonpath or "").split(",")]
        return reload_child(sys.argv[1:], tuple(d for d in watched if d))
    _prepare(config)
    apply_app_params(app, args.param)
    if args.check_config:
        return _check(config, app)
    try:
        return serve(config, app)
    except BindError as exc:
        raise LaunchError(str(exc)) from None
    except ServerError as exc:
        raise server_failed(exc) from None
