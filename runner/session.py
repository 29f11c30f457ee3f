"""One ``bench run`` from start to end: plan, run folder, manifest, loop, summary, report.

How this works: ``plan_run`` reads the scenario (or, for ``--resume``, the scenario text
stored in the run's manifest), checks the app and the engine, expands and filters the
matrix, and decides the pinning — nothing is started yet, so ``--dry-run`` stops there.
``start_run`` creates the run folder and its manifest; ``run_session`` starts the helper
downstream service when the workload needs one, runs the loop (``runner.run``) with
Ctrl-C turned into a clean stop, marks the manifest ``complete`` or ``interrupted``, and
prints the summary table, the report's path and how many cells were measured (none: exit
code 5, ``ExitCode.NOTHING_MEASURED``).
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from runner.errors import LaunchError, ScenarioError, UsageError
from runner.exit_codes import ExitCode
from runner.matrix import Cell, expand, filter_cells, parse_only, schedule
from runner.pinning import Pinning, available_cpus, plan_pinning
from runner.preflight import check_app, engine_problem, skipped_cells
from runner.scenario import Scenario, load_scenario, parse_scenario


@dataclass
class RunPlan:
    """What a run will do (all decided before anything starts)."""

    scenario: Scenario
    scenario_text: str
    source: str
    cells: list[Cell]
    order: list[tuple[Cell, int]]
    pinning: Pinning
    skipped: dict[str, str]
    repeat: int
    only: list[str] = field(default_factory=list)


def plan_run(
    scenario_path: str | None,
    *,
    repeat: int | None = None,
    only: Sequence[str] = (),
    resume_manifest: dict[str, Any] | None = None,
    check: bool = True,
) -> RunPlan:
    """Read, check and expand a scenario (or the one of a run being resumed)."""
    if resume_manifest is not None:
        text = str(resume_manifest["scenario_text"])
        source = str(resume_manifest.get("scenario_path") or "<manifest>")
        scenario = parse_scenario(text, source)
        options = resume_manifest.get("options", {})
        repeat = int(options.get("repeat") or scenario.repeat)
        only = list(options.get("only") or [])
    else:
        if scenario_path is None:
            raise UsageError("give a scenario file (or --resume RUN_DIR)")
        path = Path(scenario_path)
        scenario = load_scenario(path)
        text = path.read_text(encoding="utf-8")
        source = str(path)
        repeat = repeat or scenario.repeat
    if check:
        problem = engine_problem(scenario)
        if problem:
            raise ScenarioError(f"{source}: at load.engine: {problem}")
        app_interface = check_app(scenario, source)
    else:
        app_interface = None
    cells = expand(scenario, app_interface)
    wanted = parse_only(only)
    cells = filter_cells(cells, wanted)
    if not cells:
        raise UsageError(f"--only {' '.join(only)}: no cell of {source} matches")
    pinning = plan_pinning(scenario.pin, available_cpus())
    return RunPlan(
        scenario=scenario,
        scenario_text=text,
        source=source,
        cells=cells,
        order=schedule(cells, repeat),
        pinning=pinning,
        skipped=skipped_cells(cells, app_interface),
        repeat=repeat,
        only=list(only),
    )


def print_dry_run(plan: RunPlan, console: Console) -> None:
    """The cells a run would execute, in order, and how long it would take."""
    from rich.table import Table

    from runner.run import cell_estimate_s

    table = Table(
        title=f"{plan.scenario.name}: {len(plan.cells)} cells × {plan.repeat} repetition(s)",
        title_justify="left",
        header_style="bold",
    )
    for col in ("#", "cell_id", "server", "load", "note"):
        table.add_column(col)
    for cell in plan.cells:
        note = plan.skipped.get(cell.cell_id, "")
        table.add_row(
            str(cell.index),
            cell.cell_id,
            cell.server.describe(),
            cell.load.describe(),
            f"skipped: {note}" if note else "",
        )
    console.print(table)
    runnable = sum(1 for c, _ in plan.order if c.cell_id not in plan.skipped)
    estimate = runnable * cell_estimate_s(plan.scenario)
    from runner.units import format_duration

    console.print(f"pinning: {plan.pinning.note}")
    console.print(f"about {format_duration(estimate)} for {runnable} cell repetition(s)")


def new_run_dir(out: Path, name: str) -> Path:
    """A fresh folder ``OUT/<scenario>-<UTC timestamp>`` (suffixed if it exists)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    base = out / f"{name}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = out / f"{name}-{stamp}-{n}"
    candidate.mkdir(parents=True)
    return candidate


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of an existing run folder (UsageError if there is none)."""
    path = run_dir / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{run_dir}: not a run folder (no manifest.json)") from None
    except ValueError as exc:
        raise UsageError(f"{path}: unreadable manifest: {exc}") from None


@contextmanager
def stop_on_signals(stop: threading.Event, console: Console) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM) sets ``stop``; a second Ctrl-C interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def first(signum: int, _frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        console.print("[yellow]stopping: finishing cleanup (Ctrl-C again to force)[/]")

    old_int = signal.signal(signal.SIGINT, first)
    old_term = signal.signal(signal.SIGTERM, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


@contextmanager
def downstream_service(plan: RunPlan, run_dir: Path) -> Iterator[dict[str, str]]:
    """Start the bundled downstream HTTP service when the workload asks for it.

    Yields the environment that points the app at it (``BENCH_APP_DOWNSTREAM``). It runs
    on the engine CPUs: it stands for another machine, not for the server under test.
    """
    if not plan.scenario.workload.downstream:
        yield {}
        return
    from runner.launch import ServerProcess, free_port

    port = free_port("127.0.0.1")
    argv = [
        sys.executable,
        "-m",
        "runner.cli",
        "serve",
        "eventloop",
        "servers.apps.downstream:asgi",
        "-b",
        f"127.0.0.1:{port}",
    ]
    server = ServerProcess(
        argv, cpus=plan.pinning.engine_cpus, log_path=run_dir / "logs" / "downstream.log"
    )
    try:
        server.start()
        server.wait_ready("127.0.0.1", port, "/", plan.scenario.launch.ready_timeout)
    except LaunchError as exc:
        server.stop(5.0)
        raise LaunchError(f"the downstream service did not start: {exc}") from None
    try:
        yield {"BENCH_APP_DOWNSTREAM": f"http://127.0.0.1:{port}"}
    finally:
        server.stop(plan.scenario.launch.stop_timeout)


def _build_report(run_dir: Path) -> Path | None:
    """The dashboard, when ``dashboards.report.build_report`` exists (else None)."""
    try:
        from dashboards import report
    except ImportError:
        return None
    build = getattr(report, "build_report", None)
    if build is None:
        return None
    return Path(build(run_dir))


def run_session(
    plan: RunPlan,
    run_dir: Path,
    manifest: dict[str, Any],
    *,
    console: Console,
    view: Any = None,
    open_report: bool = False,
) -> int:
    """Run the plan into ``run_dir``; print the summary and report path; return an exit code."""
    from runner.engines.base import make_engine
    from runner.progress import RichView, render_summary
    from runner.results.store import RunStore, atomic_write_json, load_run
    from runner.run import RunContext, execute
    from runner.summary import count_cells, describe_counts, summarize

    resuming = (run_dir / "cells.parquet").exists()
    store = RunStore.resume(run_dir) if resuming else RunStore(run_dir)
    stop = threading.Event()
    view = view or RichView(console)
    engine = make_engine(
        plan.scenario.load.engine, options=plan.scenario.load.locust, workdir=run_dir / "engine"
    )
    outcome = None
    manifest["status"] = "running"
    atomic_write_json(run_dir / "manifest.json", manifest)
    try:
        with stop_on_signals(stop, console), downstream_service(plan, run_dir) as env:
            ctx = RunContext(
                scenario=plan.scenario,
                run_dir=run_dir,
                run_id=run_dir.name,
                pinning=plan.pinning,
                engine=engine,
                view=view,
                stop=stop,
                skipped=plan.skipped,
                extra_env=env,
            )
            try:
                outcome = execute(ctx, plan.order, store, manifest)
            finally:
                view.close()
    except KeyboardInterrupt:
        outcome = None
    finally:
        from runner.results.manifest import utc_now

        complete = outcome is not None and not outcome.interrupted
        manifest["status"] = "complete" if complete else "interrupted"
        manifest["finished_at"] = utc_now()
        atomic_write_json(run_dir / "manifest.json", manifest)
    data = load_run(run_dir)
    rows = summarize(data.cells, data.histograms)
    if rows:
        render_summary(console, rows, f"{plan.scenario.name} — {run_dir}")
    if manifest["status"] != "complete":
        console.print(
            f"[yellow]interrupted[/]: {len(store.cells)} of {len(plan.order)} cell "
            f"repetitions kept in {run_dir}"
        )
        console.print(f"finish it with: bench run --resume {run_dir}")
        return ExitCode.INTERRUPTED
    report = None
    try:
        report = _build_report(run_dir)
    except Exception as exc:  # the run's data is safe; a report bug must not hide it
        console.print(f"[red]report failed[/]: {type(exc).__name__}: {exc}")
    if report is not None:
        console.print(f"report: {report}")
        if open_report:
            import webbrowser

            webbrowser.open(report.resolve().as_uri())
    else:
        console.print(f"results: {run_dir}")
    counts = count_cells(rows)
    if not counts["measured"]:
        console.print(f"[red]nothing measured[/]: {describe_counts(counts)}")
        return ExitCode.NOTHING_MEASURED
    style = "yellow" if counts["failed"] else "green"
    console.print(f"[{style}]{describe_counts(counts)}[/]")
    return ExitCode.OK
