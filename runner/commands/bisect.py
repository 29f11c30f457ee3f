"""``bench bisect GOOD BAD SCENARIO``: find the commit that made SCENARIO slower.

Each probed commit is built in a fresh worktree (and venv, per ``--build``), the scenario
runs there, and the gate of ``bench compare`` against GOOD's run says good or bad
(``bench.runner.bisect``). Exit 0: the first bad commit was found; 1: BAD does not regress
against GOOD; 2: bad input (not a git repository, unknown commit, the scenario fails on
GOOD); 6: skipped commits hide the first bad one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.runner.commands.compare import metric_arg
from bench.runner.units import fraction_arg


def register(subparsers: Any) -> None:
    """Add ``bench bisect``."""
    from bench.runner.bisect.probe import BUILD_MODES

    parser = subparsers.add_parser(
        "bisect",
        help="find the first commit between GOOD and BAD at which a scenario regresses",
        description=(
            "Binary-search the commits after GOOD up to BAD: build each probed commit in "
            "a fresh git worktree, run SCENARIO there, and judge it against GOOD's run "
            "with the bench compare gate. Inconclusive steps are measured again (up to "
            "--max-tries); a commit that cannot be built or measured is skipped, never bad."
        ),
    )
    parser.add_argument("good", metavar="GOOD", help="a commit where the scenario is fast")
    parser.add_argument("bad", metavar="BAD", help="a later commit where it is slow")
    parser.add_argument(
        "scenario",
        metavar="SCENARIO",
        help="scenario YAML (the commit's own copy is used when the repository holds it)",
    )
    parser.add_argument("--repo", default=".", help="the git repository (default: here)")
    parser.add_argument(
        "--build",
        choices=BUILD_MODES,
        default="venv",
        help="venv: a fresh venv per commit (default); reuse: one venv, --no-deps "
        "reinstall per commit; none: this interpreter, the worktree on PYTHONPATH",
    )
    parser.add_argument("--max-tries", type=int, default=3, metavar="N",
                        help="runs of a commit whose verdict is inconclusive (default 3)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=1800.0, metavar="S",
                        help="seconds one bench run may take (default 1800)")  # fmt: skip
    parser.add_argument("--out", default="results/bisect", help="run folders, logs and the report")
    parser.add_argument("--max-regression", type=fraction_arg, metavar="PCT")
    parser.add_argument("--metric", type=metric_arg, action="append", metavar="NAME:PCT")
    parser.add_argument("--keep-worktrees", action="store_true", help="keep each probe's worktree")
    parser.add_argument(
        "--no-interleave",
        action="store_true",
        help="measure GOOD and each probe as whole runs one after the other (default: "
        "alternate one repetition of each, so both see the same machine load)",
    )
    parser.add_argument(
        "--repeat", type=int, metavar="N", help="repetitions per side (default: the scenario's)"
    )
    parser.add_argument(
        "--baseline-once",
        action="store_true",
        help="with --no-interleave: measure GOOD once (default: again before every probe)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Handler of ``bench bisect``."""
    from bench.runner.bisect.report import conclusion, write
    from bench.runner.bisect.session import Options, bisect
    from bench.runner.errors import UsageError
    from bench.runner.exit_codes import ExitCode

    if args.max_tries < 1:
        raise UsageError("--max-tries must be 1 or more")
    if args.repeat is not None and args.repeat < 3:
        raise UsageError("--repeat must be 3 or more")
    overrides: dict[str, Any] = {}
    if args.max_regression is not None:
        overrides["max_regression"] = args.max_regression
    if args.metric:
        overrides["metrics"] = dict(args.metric)
    options = Options(
        build=args.build,
        max_tries=args.max_tries,
        timeout_s=args.timeout,
        gate_overrides=overrides,
        keep_worktrees=args.keep_worktrees,
        baseline_once=args.baseline_once,
        interleave=not args.no_interleave,
        repeat=args.repeat,
    )
    out = Path(args.out).resolve()
    report = bisect(Path(args.repo), args.good, args.bad, Path(args.scenario), out, options)
    md, _ = write(report, out)
    print(conclusion(report))
    print(f"evidence: {md}")
    if report.first_bad is not None:
        return ExitCode.OK
    return ExitCode.INCONCLUSIVE if report.candidates else ExitCode.FAILED
