"""``bench plan RUN_DIR --slo 'p99<=100ms' [--target-rps R] [--headroom 30%] [-o DIR]``.

Reads a run folder, finds each configuration's capacity at the SLO, fits the Universal
Scalability Law where the run varies workers, threads or concurrency, recommends a
configuration (and a runner-up) and an instance count for the target, and writes
``plan.md`` and ``plan.html`` into the run folder (or ``-o DIR``). Prints the
recommendation and the two paths. Errors are one line (exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.runner.errors import UsageError


def _headroom(text: str) -> float:
    from bench.runner.plan.options import parse_headroom

    try:
        return parse_headroom(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(text: str) -> float:
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a rate in req/s like 2000; got {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the target rate must be more than 0")
    return value


def register(subparsers: Any) -> None:
    """Add ``bench plan``."""
    parser = subparsers.add_parser(
        "plan",
        help="capacity plan from a run: capacity at an SLO, USL fits, instances for a target",
        description=(
            "Capacity planning from measurements: the highest load each server configuration "
            "sustains within the SLO, the recommended configuration and runner-up for a target "
            "rate, instances needed with headroom, CPU and memory per 1,000 req/s, Universal "
            "Scalability Law fits, and the limits of what was measured. Writes plan.md and "
            "plan.html."
        ),
    )
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", type=Path, help="a run folder (results/<run-id>)"
    )
    parser.add_argument(
        "--slo",
        action="append",
        default=[],
        metavar="KEY<=VALUE",
        help="objective, e.g. 'p99<=100ms' and 'error_rate<=0.1%%' (repeat or comma-separate; "
        "default: the scenario's slo)",
    )
    parser.add_argument(
        "--target-rps", type=_rate, default=None, metavar="R", help="the rate to plan for (req/s)"
    )
    parser.add_argument(
        "--headroom",
        type=_headroom,
        default=0.3,
        metavar="PCT",
        help="share of each instance's capacity kept free (default 30%%)",
    )
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for plan.md and plan.html (default: RUN_DIR)",
    )
    parser.set_defaults(handler=_plan)


def _plan(args: argparse.Namespace) -> int:
    from bench.dashboards.plan.page import write_reports
    from bench.runner.plan.analysis import build_plan
    from bench.runner.plan.options import parse_slo
    from bench.runner.plan.recommend import explain

    run_dir: Path = args.run_dir
    if args.slo:
        slo = parse_slo(args.slo)
    else:
        from bench.runner.results.slo import slo_from_manifest
        from bench.runner.session.prepare import read_manifest

        if not run_dir.is_dir():
            raise UsageError(f"{run_dir}: no such run folder")
        slo = slo_from_manifest(read_manifest(run_dir), search_first=True)
        if slo is None:
            raise UsageError("the scenario has no slo: give one, e.g. --slo 'p99<=100ms'")
    plan = build_plan(run_dir, slo, args.target_rps, args.headroom)
    out: Path = args.out if args.out is not None else run_dir
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: is a file; -o takes a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        md, page = write_reports(plan, out)
    except OSError as exc:
        raise UsageError(f"{out}: cannot write the plan: {exc.strerror or exc}") from None
    print(explain(plan.recommendation, slo.describe()))
    print(f"plan: {md}")
    print(f"plan: {page}")
    return 0
