"""``bench baseline save RUN_DIR [NAME]`` / ``bench baseline list``: keep runs to compare to.

A saved baseline is one parquet file (cells table + manifest) in the baselines folder
(``--dir``, else ``$BENCH_BASELINES``, else ``results/baselines``); ``bench compare NAME
RUN_DIR`` finds it by name. See docs/ci.md for keeping one per branch in CI.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.runner.exit_codes import document


def register(subparsers: Any) -> None:
    """Add ``bench baseline`` with its ``save`` and ``list`` actions."""
    parser = subparsers.add_parser(
        "baseline",
        help="save a run as a named baseline for bench compare, or list saved ones",
        description="Keep runs as named baselines for `bench compare NAME CANDIDATE`.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    save = actions.add_parser("save", help="save RUN_DIR as baseline NAME")
    save.add_argument(
        "run_dir", metavar="RUN_DIR", help="a run folder (results/<scenario>-<time>/)"
    )
    save.add_argument("name", metavar="NAME", nargs="?", help="default: the scenario's name")
    save.add_argument("--dir", metavar="DIR", help="baselines folder (default results/baselines)")
    save.add_argument(
        "--force", action="store_true", help="overwrite a baseline of another scenario"
    )
    save.set_defaults(handler=run_save)
    document(save, "baseline")
    listing = actions.add_parser("list", help="list saved baselines")
    listing.add_argument(
        "--dir", metavar="DIR", help="baselines folder (default results/baselines)"
    )
    listing.set_defaults(handler=run_list)
    document(listing, "baseline")


def run_save(args: argparse.Namespace) -> int:
    """Handler of ``bench baseline save``."""
    from bench.runner.compare.baseline import baselines_dir, save_baseline

    path = save_baseline(Path(args.run_dir), args.name, baselines_dir(args.dir), force=args.force)
    print(f"bench: baseline saved: {path}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Handler of ``bench baseline list``."""
    from rich.console import Console
    from rich.table import Table

    from bench.runner.compare.baseline import baselines_dir, list_baselines

    directory = baselines_dir(args.dir)
    found = list_baselines(directory)
    if not found:
        print(f"bench: no baselines in {directory}")
        return 0
    table = Table(title=f"baselines in {directory}")
    for name in ("name", "scenario", "saved at", "from run", "commit", "cells", "rows"):
        table.add_column(name)
    for info in found:
        table.add_row(
            info.name,
            info.scenario or "",
            info.saved_at or "",
            info.source_run or "",
            (info.git_sha or "")[:12],
            str(info.cells),
            str(info.rows),
        )
    Console().print(table)
    return 0
