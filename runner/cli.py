"""The `bench` command line: a thin dispatcher over one module per subcommand.

Each module in ``bench.runner.commands`` exposes ``register(subparsers)``, which adds its
parser and sets ``handler`` (a function taking the parsed namespace and returning an
exit code). Modules import their heavy dependencies inside the handler so that
``bench --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bench.runner import __version__
from bench.runner.errors import BenchError
from bench.runner.exit_codes import ExitCode, document

#: Subcommand modules, in the order ``bench --help`` lists them.
COMMANDS: tuple[str, ...] = (
    "run",
    "scenarios",
    "serve",
    "load",
    "report",
    "compare",
    "baseline",
    "plan",
    "calibrate",
    "bisect",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="bench",
        description="Measure how a Python web app should be served.",
    )
    parser.add_argument("--version", action="version", version=f"bench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"bench.runner.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.runner.commands.{name}":
                continue  # not built yet
            raise
        module.register(sub)
        document(sub.choices[name], name)  # exit codes in the epilog of its --help
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bench`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return ExitCode.USAGE
    try:
        return int(handler(args) or 0)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
