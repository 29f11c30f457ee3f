"""``bench run SCENARIO``: run a scenario's matrix and write a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run a scenario: every server configuration × load point, repeated",
        description=(
            "Expand the scenario's matrix, run every cell on a freshly started server, "
            "write a run folder (manifest.json, cells.parquet, histograms, time series), "
            "print a summary table and the report's path. Ctrl-C keeps every finished "
            "cell; --resume RUN_DIR runs the rest."
        ),
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        help="scenario YAML file, or the name of a bundled one (quick, io_bound, …: bench scenarios)",
    )
    parser.add_argument(
        "--out", default="results", help="folder for run folders (default: results)"
    )
    parser.add_argument(
        "--repeat", type=int, help="repetitions of each cell (overrides the scenario)"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="run only matching cells, e.g. --only server=prefork --only concurrency=8,32",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the server tree of every cell with py-spy (as 'profile: true')",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the cells and exit")
    parser.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted run")
    parser.add_argument("--open", action="store_true", help="open the report in a browser")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Plan, then (unless --dry-run) run."""
    from bench.dashboards.report import build_report
    from bench.runner.errors import UsageError
    from bench.runner.results.manifest import new_manifest, utc_now
    from bench.runner.session.conduct import run_session
    from bench.runner.session.prepare import new_run_dir, plan_run, print_dry_run, read_manifest
    from bench.runner.session.progress import make_console
    from bench.runner.session.reference import measure_reference

    console = make_console()
    if args.repeat is not None and args.repeat < 1:
        raise UsageError("--repeat must be 1 or more")
    if args.resume:
        if args.scenario or args.only or args.repeat or args.profile:
            raise UsageError("--resume takes the scenario and options from the run's manifest")
        run_dir = Path(args.resume)
        manifest = read_manifest(run_dir)
        plan = plan_run(None, resume_manifest=manifest)
        if args.dry_run:
            print_dry_run(plan, console)
            return 0
        manifest.setdefault("resumed_at", []).append(utc_now())
    else:
        plan = plan_run(args.scenario, repeat=args.repeat, only=args.only, profile=args.profile)
        if args.dry_run:
            print_dry_run(plan, console)
            return 0
        run_dir = new_run_dir(Path(args.out), plan.scenario.name)
        manifest = new_manifest(
            run_id=run_dir.name,
            scenario_name=plan.scenario.name,
            scenario_path=str(Path(plan.source).resolve()),  # --resume from any folder
            scenario_text=plan.scenario_text,
            options={
                "repeat": plan.repeat,
                "only": plan.only,
                "out": args.out,
                "profile": plan.scenario.profile,
            },
            pinning=plan.pinning.to_dict(),
            planned=len(plan.order),
            skipped=sorted(set(plan.skipped.values())),
        )
        manifest["reference"] = measure_reference()  # how fast this machine is, now
    console.print(f"run folder: {run_dir}  ({plan.pinning.note})")
    for reason in sorted(set(plan.skipped.values())):
        console.print(f"[yellow]skipping[/]: {reason}")
    return run_session(
        plan, run_dir, manifest, console=console, build_report=build_report, open_report=args.open
    )
