"""``bench report RUN_DIR [-o FILE.html] [--open]``: build the dashboard of a run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="build the HTML dashboard of a run folder",
        description=(
            "Build one self-contained HTML report (works offline) from a run folder: "
            "latency vs throughput, scaling, percentile spectra, the matrix, time series, "
            "server CPU and memory."
        ),
    )
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", type=Path, help="a run folder (results/<run-id>)"
    )
    parser.add_argument(
        "-o",
        "--out",
        metavar="FILE.html",
        type=Path,
        default=None,
        help="where to write the report (default: RUN_DIR/report.html)",
    )
    parser.add_argument(
        "--open", action="store_true", help="open the report in a browser where one exists"
    )
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from bench.dashboards.report import build_report, open_in_browser

    path = build_report(args.run_dir, args.out)
    print(f"report: {path}")
    if args.open and not open_in_browser(path):
        print("bench: no browser available here; open the file above yourself", file=sys.stderr)
    return 0
