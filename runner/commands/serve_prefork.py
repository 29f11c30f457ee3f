"""``bench serve prefork APP``: the prefork WSGI server (gunicorn's flag names).

Every option comes from the settings of ``servers.prefork.config.PreforkConfig``
(one definition per setting drives this parser); ``APP`` and ``--param`` are shared
with the other ``bench serve`` servers. Signals: TERM graceful stop, INT/QUIT fast
stop, HUP reload (fresh workers first), TTIN/TTOU one worker more/less.
"""

from __future__ import annotations

import argparse
from typing import Any

from runner.errors import BenchError, LaunchError, UsageError
from runner.exit_codes import document


def register_prefork(servers: Any) -> None:
    """Add ``bench serve prefork`` to the ``bench serve`` subparsers."""
    from servers.prefork.config import add_arguments

    parser = servers.add_parser(
        "prefork",
        help="the prefork WSGI server: a master and sync, thread or eventloop workers",
        description="bench's prefork server: a master process supervising worker "
        "processes (heartbeat, reload on HUP, graceful stop on TERM). Flag names follow "
        "gunicorn where gunicorn has the setting.",
    )
    document(parser, "serve")
    parser.add_argument("app", metavar="APP", help="bundled app name or module:attr")
    parser.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="parameter of a bundled app (exported as BENCH_APP_KEY); repeatable",
    )
    add_arguments(parser)
    parser.set_defaults(handler=_serve_prefork)


class _PreforkFailed(BenchError):
    """A ServerError shown as one line, keeping its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _serve_prefork(args: argparse.Namespace) -> int:
    from runner.commands.serve import apply_app_params
    from servers.errors import BindError, ConfigError, ServerError
    from servers.prefork import serve
    from servers.prefork.config import from_namespace

    apply_app_params(args.app, args.param)
    try:
        config = from_namespace(args)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        return serve(config, args.app)
    except BindError as exc:
        raise LaunchError(str(exc)) from None
    except ServerError as exc:
        raise _PreforkFailed(str(exc), exc.exit_code) from None
