"""``bench scenarios``: the scenarios bundled with bench, by name (``bench run NAME``)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``scenarios`` subcommand."""
    parser = subparsers.add_parser(
        "scenarios",
        help="list the bundled scenarios (run one with bench run NAME)",
        description=(
            "List the scenarios shipped with bench: `bench run NAME` runs one from any "
            "folder; copy its file (--paths shows where it is) to write your own."
        ),
    )
    parser.add_argument(
        "--paths", action="store_true", help="print each scenario's file path as well"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print one row per bundled scenario."""
    from rich.table import Table

    from bench.runner.scenario.bundled import bundled_scenarios
    from bench.runner.session.progress import make_console

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("name", no_wrap=True)
    table.add_column("what it measures")
    if args.paths:
        table.add_column("file", no_wrap=True)
    for scenario in bundled_scenarios():
        row = [scenario.name, scenario.description]
        if args.paths:
            row.append(str(scenario.path))
        table.add_row(*row)
    console = make_console()
    console.print(table)
    console.print("run one: bench run NAME (e.g. bench run quick)")
    return 0
