"""``bench compare BASELINE CANDIDATE``: the CI performance gate.

Exit code 0: no regression; 1: a gate regressed (or, with ``--strict``, was
inconclusive); 2: bad input (missing files, different scenarios), one line on stderr;
6: no gate decided anything (every gate inconclusive, e.g. ``repeat: 1`` runs) unless
``--allow-inconclusive`` (``bench.runner.exit_codes``). Gates come from the candidate
scenario's ``gates:`` section, then the command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bench.runner.errors import UsageError
from bench.runner.exit_codes import ExitCode
from bench.runner.units import fraction_arg


def metric_arg(text: str) -> tuple[str, float | None]:
    """argparse type of ``--metric NAME:PCT`` (``NAME:off`` turns a gate off)."""
    from bench.runner.scenario.gates import parse_metric_option

    try:
        return parse_metric_option(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: Any) -> None:
    """Add ``bench compare``."""
    parser = subparsers.add_parser(
        "compare",
        help="compare two runs: regression gates for CI (exit 1 on a regression)",
        description=(
            "Compare the repetitions of BASELINE and CANDIDATE cell by cell. A gate "
            "regresses when a metric moved the wrong way beyond its threshold and a "
            "Mann-Whitney U test is significant (Holm-corrected over all gates). "
            "A comparison in which no gate could decide is not a pass (exit 6)."
        ),
    )
    parser.add_argument("baseline", metavar="BASELINE", help="run folder, baseline file or name")
    parser.add_argument("candidate", metavar="CANDIDATE", help="run folder or baseline file")
    parser.add_argument(
        "--max-regression",
        type=fraction_arg,
        metavar="PCT",
        help="allowed change for metrics without their own threshold (default 5%%)",
    )
    parser.add_argument(
        "--metric",
        type=metric_arg,
        action="append",
        metavar="NAME:PCT",
        help="threshold of one metric (rps, p50, p99, p999, error_rate, rss; cpu only when set), "
        "e.g. p99:10%%, or p999:off; repeatable",
    )
    parser.add_argument(
        "--alpha", type=float, help="false-regression level of the comparison (default 0.008)"
    )
    parser.add_argument("--min-repetitions", type=int, metavar="N", help="default 3")
    parser.add_argument(
        "--correction",
        choices=("holm", "none"),
        help="holm (default): alpha covers all gates together; none: alpha per gate",
    )
    leniency = parser.add_mutually_exclusive_group()
    leniency.add_argument(
        "--strict", action="store_true", help="inconclusive gates fail too (exit 1)"
    )
    leniency.add_argument(
        "--allow-inconclusive",
        action="store_true",
        help="exit 0 even when no gate could decide (default: exit 6)",
    )
    parser.add_argument(
        "--any-scenario",
        action="store_true",
        help="allow comparing runs of differently named scenarios (cells still match by id)",
    )
    parser.add_argument(
        "--event-gate",
        action="append",
        metavar="'ACTION METRIC <= LIMIT'",
        help="a limit on what an event may cost in the candidate, e.g. 'reload errors <= 0' "
        "or 'kill-worker recovery <= 3s'; repeatable (adds to the scenario's gates.events)",
    )
    parser.add_argument(
        "--normalize",
        action="store_true",
        help="when the machines differ or the CPU reference moved, let the comparison "
        "normalized to the reference decide the exit code (default: the raw one decides; "
        "both are shown)",
    )
    parser.add_argument("--markdown", metavar="FILE", help="write a markdown report")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML (one test per gate)")
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write JSON to FILE, or to stdout (instead of the table) without FILE",
    )
    parser.add_argument("--html", metavar="FILE", help="write a comparison dashboard (HTML)")
    parser.add_argument(
        "--dir", metavar="DIR", help="where saved baselines are (default results/baselines)"
    )
    parser.set_defaults(handler=run_compare)


def _write(path: str, text: str) -> None:
    from bench.runner.results.store import atomic_write_bytes

    try:
        atomic_write_bytes(Path(path), text.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _drift(
    baseline: Any, candidate: Any, gates: Any, args: argparse.Namespace
) -> tuple[list[str], Any]:
    """Notes on machine drift, and (verdicts, summary) normalized to the CPU reference."""
    from bench.runner.compare.drift import assess, describe, normalize
    from bench.runner.compare.judge import judge, summarize
    from bench.runner.compare.render import headline

    drift = assess(baseline.manifest, candidate.manifest)
    notes = describe(drift)
    if not drift.needs_normalizing or drift.cpu_ratio is None:
        if args.normalize:
            notes.append(
                "--normalize: the machines and references agree; the raw comparison decides"
            )
        return notes, None
    verdicts = judge(baseline.cells, normalize(candidate.cells, drift.cpu_ratio), gates)
    summary = summarize(
        verdicts, gates, strict=args.strict, allow_inconclusive=args.allow_inconclusive
    )
    who = (
        "decides (--normalize)"
        if args.normalize
        else "shown beside the raw one; --normalize lets it decide"
    )
    notes.append(
        f"normalized to the CPU reference (candidate req/s × {drift.cpu_ratio:.3f}, latencies "
        f"÷ {drift.cpu_ratio:.3f}): {headline(summary)} — {who}"
    )
    return notes, (verdicts, summary)


def run_compare(args: argparse.Namespace) -> int:
    """Handler of ``bench compare``."""
    from pydantic import ValidationError

    from bench.runner.compare.baseline import baselines_dir, load_side
    from bench.runner.compare.context import check_comparable, describe_side, scenario_gates
    from bench.runner.compare.judge import judge, summarize
    from bench.runner.compare.noise import noise_warnings
    from bench.runner.compare.profile_diff import diff_lines, diff_markdown, profile_diffs
    from bench.runner.compare.render import Context, to_json, to_junit, to_markdown, to_rich
    from bench.runner.scenario.gates import Gates

    directory = baselines_dir(args.dir)
    baseline = load_side(args.baseline, directory=directory)
    candidate = load_side(args.candidate, directory=directory)
    notes = check_comparable(baseline, candidate, any_scenario=args.any_scenario)
    gates = scenario_gates(candidate) or Gates()
    try:
        gates = gates.overridden(
            max_regression=args.max_regression,
            metrics=dict(args.metric or ()),
            alpha=args.alpha,
            min_repetitions=args.min_repetitions,
            correction=args.correction,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        raise UsageError(f"bad gate option {where}: {error.get('msg')}") from None
    if not gates.enabled():
        raise UsageError("every metric's gate is off: nothing to compare")

    verdicts = judge(baseline.cells, candidate.cells, gates)
    summary = summarize(
        verdicts, gates, strict=args.strict, allow_inconclusive=args.allow_inconclusive
    )
    drift_notes, normalized = _drift(baseline, candidate, gates, args)
    notes += drift_notes
    if normalized is not None and args.normalize:
        verdicts, summary = normalized
    notes += noise_warnings(baseline.cells, candidate.cells, gates, summary.family)
    diffs = profile_diffs(  # where the time went, when both sides were profiled
        baseline.cells, candidate.cells, _run_dir(baseline), _run_dir(candidate), verdicts
    )
    ctx = Context(
        baseline=describe_side(baseline),
        candidate=describe_side(candidate),
        scenario=candidate.scenario or baseline.scenario,
        gates=gates,
        notes=tuple(notes),
    )
    event_lines, event_failed = _event_gates(args, gates, candidate)
    if args.markdown:
        markdown = to_markdown(verdicts, summary, ctx)
        if event_lines:
            markdown += (
                "\n## Event gates\n\n" + "\n".join(f"- {line}" for line in event_lines) + "\n"
            )
        _write(args.markdown, markdown + diff_markdown(diffs))
    if args.junit:
        _write(args.junit, to_junit(verdicts, summary, ctx))
    if args.json and args.json != "-":
        _write(args.json, to_json(verdicts, summary, ctx))
    if args.html:
        from bench.dashboards.compare_view import build_comparison_report

        build_comparison_report(
            verdicts,
            baseline.cells,
            candidate.cells,
            Path(args.html),
            context=ctx,
            profile_diffs=diffs,
        )
    if args.json == "-":
        sys.stdout.write(to_json(verdicts, summary, ctx))
    else:
        from rich.console import Console

        console = Console()
        console.print(to_rich(verdicts, summary, ctx))
        for line in diff_lines(diffs):
            console.print(line, highlight=False)
        for line in event_lines:
            console.print(line, markup=False, highlight=False)
    return ExitCode.FAILED if event_failed else summary.exit_code


def _run_dir(side: Any) -> Path | None:
    """A run folder side's folder (its profiles live there); None for a baseline file."""
    path = Path(side.source)
    return path if side.kind == "run" and path.is_dir() else None


def _event_gates(args: argparse.Namespace, gates: Any, candidate: Any) -> tuple[list[str], bool]:
    """The event gates' lines and whether one failed (runner.compare.event_gates)."""
    from bench.runner.compare.event_gates import event_gate_lines, judge_event_gates, side_events
    from bench.runner.scenario.event_gates import parse_event_gate

    try:
        extra = tuple(parse_event_gate(text) for text in args.event_gate or ())
    except ValueError as exc:
        raise UsageError(f"bad --event-gate: {exc}") from None
    chosen = (*gates.events, *extra)
    if not chosen:
        return [], False
    results = judge_event_gates(
        chosen, side_events(candidate.source, candidate.kind), candidate.cells
    )
    return event_gate_lines(results), any(r.judged and not r.passed for r in results)
