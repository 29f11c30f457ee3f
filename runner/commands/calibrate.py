"""``bench calibrate SCENARIO``: this machine's run-to-run noise and what a gate needs here.

Runs the scenario with ``--repeat`` repetitions of the same code (an A/A run; or reads an
existing run folder), then reports per cell × metric the noise, the smallest change a
gate catches with the scenario's repetitions, and the repetitions its threshold needs
(``bench.runner.compare.calibrate``). Exit 0 done, 2 bad input, 5 nothing measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: Repetitions of the calibration run unless --repeat says otherwise.
DEFAULT_REPEAT = 10


def register(subparsers: Any) -> None:
    """Add ``bench calibrate``."""
    parser = subparsers.add_parser(
        "calibrate",
        help="measure this machine's run-to-run noise and the thresholds/repetitions a gate needs",
        description=(
            "Run SCENARIO with many repetitions of the same code (or read RUN_DIR), measure "
            "the noise of every gate metric, and say which threshold and how many "
            "repetitions per side a bench compare gate needs here for its false-alarm "
            "level (the gates' alpha) and the stated power. The even repetitions are also "
            "compared with the odd ones: one real A/A comparison."
        ),
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario YAML file, or a run folder")
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help=f"repetitions of the calibration run (default {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--per-side",
        type=int,
        metavar="N",
        help="repetitions per side the gate will use (default: the scenario's repeat)",
    )
    parser.add_argument(
        "--power", type=float, default=0.8, help="chance to catch a change (default 0.8)"
    )
    parser.add_argument("--out", default="results", help="folder for the run (default: results)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(handler=handle)


def _run(scenario: str, repeat: int, out: str) -> Path:
    """Run the scenario like ``bench run`` and return its run folder."""
    from bench.runner.commands import run as run_command
    from bench.runner.errors import UsageError

    before = set(Path(out).glob("*")) if Path(out).is_dir() else set()
    args = argparse.Namespace(
        scenario=scenario, repeat=repeat, only=[], out=out, dry_run=False, resume=None, open=False
    )
    run_command.handle(args)
    created = sorted(p for p in set(Path(out).glob("*")) - before if p.is_dir())
    if not created:
        raise UsageError(f"{scenario}: the calibration run wrote no run folder")
    return created[-1]


def handle(args: argparse.Namespace) -> int:
    """Handler of ``bench calibrate``."""
    from bench.runner.compare.baseline import load_side
    from bench.runner.compare.calibrate import calibrate, recommendation, split_false_alarms
    from bench.runner.compare.context import scenario_gates
    from bench.runner.errors import UsageError
    from bench.runner.exit_codes import ExitCode
    from bench.runner.scenario.gates import Gates

    if args.repeat < 4:
        raise UsageError("--repeat must be 4 or more (noise needs repetitions)")
    if not 0 < args.power < 1:
        raise UsageError("--power must be between 0 and 1, e.g. 0.8")
    source = Path(args.scenario)
    if source.is_dir():
        run_dir = source
    elif source.is_file():
        run_dir = _run(args.scenario, args.repeat, args.out)
    else:
        raise UsageError(f"{args.scenario}: no such scenario file or run folder")
    side = load_side(str(run_dir), directory=run_dir)
    gates = scenario_gates(side) or Gates()
    text_repeat = side.scenario_data().get("repeat")
    per_side = args.per_side or (int(text_repeat) if isinstance(text_repeat, int) else None)
    per_side = per_side or args.repeat
    try:
        cal = calibrate(side.cells, gates, per_side=per_side, power=args.power)
    except UsageError as exc:
        print(f"bench: error: {run_dir}: {exc}", file=sys.stderr)
        return ExitCode.NOTHING_MEASURED
    rate, splits = split_false_alarms(side.cells, gates)
    if args.json:
        data = _to_dict(cal, run_dir)
        data["aa_splits"] = {"splits": splits, "false_alarm_rate": rate}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        _print(cal, run_dir)
        if splits:
            print(
                f"A/A over {splits} random halves of the repetitions: {rate:.1%} report a regression"
            )
        print(recommendation(cal))
    return ExitCode.OK


def _to_dict(cal: Any, run_dir: Path) -> dict[str, Any]:
    from bench.runner.compare.calibrate import recommendation

    return {
        "run": str(run_dir),
        "per_side": cal.per_side,
        "family": cal.family,
        "level": cal.level,
        "power": cal.power,
        "metrics": [
            {
                "cell": m.cell,
                "metric": m.metric,
                "noise": m.noise,
                "repetitions": m.repetitions,
                "threshold": m.threshold,
                "smallest_detectable": m.smallest,
                "repetitions_needed": m.needed,
            }
            for m in cal.metrics
        ],
        "aa": None
        if cal.aa_summary is None
        else {"exit_code": cal.aa_summary.exit_code, "counts": cal.aa_summary.counts},
        "recommendation": recommendation(cal),
    }


def _print(cal: Any, run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from bench.runner.compare.render import headline

    table = Table(title=f"run-to-run noise: {run_dir.name}", title_justify="left")
    for name in ("cell", "metric", "reps", "noise σ", "threshold", "catches ≥", "reps needed"):
        table.add_column(name, justify="left" if name in ("cell", "metric") else "right")
    for m in cal.metrics:
        table.add_row(
            m.cell,
            m.label,
            str(m.repetitions),
            f"{m.noise:.1%}",
            f"{m.threshold:.0%}",
            f"{m.smallest:.1%}",
            str(m.needed) if m.needed is not None else "> 200",
        )
    console = Console()
    console.print(table)
    console.print(
        f"'catches ≥': smallest change caught in {cal.power:.0%} of comparisons with "
        f"{cal.per_side} repetitions per side, {cal.family} gates at α/gates = {cal.level:.2g}"
    )
    if cal.aa_summary is not None:
        console.print(f"A/A (even vs odd repetitions of this run): {headline(cal.aa_summary)}")
