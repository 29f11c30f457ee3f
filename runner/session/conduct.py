"""One ``bench run`` from start to end, once planned: loop, manifest, summary, exit code.

How this works: ``run_session`` starts the helper downstream service when the workload
needs one, runs the loop (``bench.runner.session.loop``) with Ctrl-C turned into a clean stop
(``stop_on_signals``), marks the manifest ``complete`` or ``interrupted``, and prints the
summary table, the report's path (the report is built by the caller's ``build_report``:
views are not the session's) and how many cells were measured (none: exit code 5,
``ExitCode.NOTHING_MEASURED``).
"""

from __future__ import annotations

import signal
import sys
import threading
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.runner.engines.registry import make_engine
from bench.runner.errors import LaunchError
from bench.runner.exit_codes import ExitCode
from bench.runner.launch.process import ServerProcess, free_port
from bench.runner.results.manifest import utc_now
from bench.runner.results.store import RunStore, atomic_write_json, load_run
from bench.runner.session.attribution_view import render_attribution
from bench.runner.session.context import RunContext
from bench.runner.session.loop import execute
from bench.runner.session.prepare import RunPlan
from bench.runner.session.progress import RichView, render_summary
from bench.runner.session.summary import count_cells, describe_counts, summarize

#: Builds the run's report from its folder; returns its path (None: no report).
ReportBuilder = Callable[[Path], "Path | None"]


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
    port = free_port("127.0.0.1")
    argv = [
        sys.executable,
        "-m",
        "bench.runner.cli",
        "serve",
        "eventloop",
        "bench.servers.apps.downstream:asgi",
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


def run_session(
    plan: RunPlan,
    run_dir: Path,
    manifest: dict[str, Any],
    *,
    console: Console,
    view: Any = None,
    build_report: ReportBuilder | None = None,
    open_report: bool = False,
) -> int:
    """Run the plan into ``run_dir``; print the summary and report path; return an exit code."""
    resuming = (run_dir / "cells.parquet").exists()
    store = RunStore.resume(run_dir) if resuming else RunStore(run_dir)
    stop = threading.Event()
    view = view or RichView(console)
    engine = make_engine(
        plan.scenario.load.engine,
        options=plan.scenario.load.locust,
        workdir=run_dir / "engine",
        cluster=plan.scenario.load.cluster,
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
        complete = outcome is not None and not outcome.interrupted
        manifest["status"] = "complete" if complete else "interrupted"
        manifest["finished_at"] = utc_now()
        atomic_write_json(run_dir / "manifest.json", manifest)
    data = load_run(run_dir)
    rows = summarize(data.cells, data.histograms)
    if rows:
        render_summary(console, rows, f"{plan.scenario.name} — {run_dir}")
        render_attribution(console, data.cells)  # worker balance, profiles
    if manifest["status"] != "complete":
        console.print(
            f"[yellow]interrupted[/]: {len(store.cells)} of {len(plan.order)} cell "
            f"repetitions kept in {run_dir}"
        )
        console.print(f"finish it with: bench run --resume {run_dir}")
        return ExitCode.INTERRUPTED
    report = None
    try:
        report = build_report(run_dir) if build_report is not None else None
    except Exception as exc:  # the run's data is safe; a report bug must not hide it
        console.print(f"[red]report failed[/]: {type(exc).__name__}: {exc}")
    if report is not None:
        console.print(f"report: {report}")
        if open_report:
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
