"""Drivers: what happens between a cell's server being up and its row — fixed load or search.

How this works: ``run_cell`` (``bench.runner.session.cell``) starts the server, samples it, runs
the primer, then hands a ``CellRun`` to the driver of the cell's load mode (``DRIVERS``):

- ``drive_fixed`` (closed and open loop): one warm-up + measured window at the cell's
  load point; the row is that window.
- ``drive_search`` (``bench plan``'s search mode): an SLO search on the running server,
  one open-loop window per step (``bench.runner.session.search.run_search`` picks the rates);
  every step goes to ``search/``, the row is the window at the capacity found.

Both measure through ``measure_window``: run the engine, take a resource sample at the
end, stop if the user asked, fail if the server died, and cut the sampler's data to the
engine's window — one definition of "a measured window" for every driver.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace

from bench.runner.errors import EngineError, LaunchError
from bench.runner.launch.sampler import WindowStats
from bench.runner.loadspec import LoadResult, LoadSpec
from bench.runner.results.steps import write_steps
from bench.runner.results.workers import worker_fields
from bench.runner.session.cell_events import finish_events, start_events
from bench.runner.session.context import CellOutcome, CellRun, Interrupted
from bench.runner.session.profiling import profiled_window
from bench.runner.session.rows import cell_row, timeseries_rows
from bench.runner.session.search import run_search, step_spec

#: A driver: the cell's measured windows and its row, once its server is up.
Driver = Callable[[CellRun], CellOutcome]


def measure_window(run: CellRun, spec: LoadSpec, where: str = "") -> tuple[LoadResult, WindowStats]:
    """Run one engine window on the running server; its result and the server's resources.

    Raises:
        Interrupted: the user asked to stop during the window.
        LaunchError: the server exited during the window (``where`` says when).
    """
    ctx = run.ctx
    events = start_events(run, spec)  # the scenario's events: None without any
    progress = events.progress(ctx.view.engine_progress) if events else ctx.view.engine_progress
    result: LoadResult | None = None
    try:
        result = ctx.engine.run(spec, progress=progress, stop=ctx.stop)
    finally:
        finish_events(run, events, result)
    end = time.monotonic()
    run.sampler.sample()
    if ctx.stop.is_set():
        raise Interrupted
    code = run.server.returncode()
    if code is not None:
        raise LaunchError(
            f"server exited with code {code} {where or 'during the run'}" + run.exit_note()
        )
    return result, run.sampler.window(end - result.duration_s, end)


def _row(
    run: CellRun, base: dict[str, object], result: LoadResult, window: WindowStats, notes: list[str]
) -> dict[str, object]:
    pin = run.ctx.pinning
    row = cell_row(
        base,
        result,
        window,
        slo=run.ctx.scenario.cell_slo,
        server_cpus=pin.server_cpus,
        engine_cpus=pin.engine_cpus,
        startup_s=run.startup_s,
        notes=notes,
    )
    return {**row, **worker_fields(window.workers)}  # per-worker shares (results.workers)


def drive_fixed(run: CellRun) -> CellOutcome:
    """Warm-up + one measured window at the cell's load point (closed or open loop)."""
    run.ctx.view.phase("warm-up" if run.ctx.scenario.load.warmup else "measuring")
    extra: dict[str, object] = {}
    if run.ctx.scenario.profile:  # a clean window, then a profiled one (session.profiling)
        result, window, extra = profiled_window(run, run.spec, measure_window)
    else:
        result, window = measure_window(run, run.spec)
    row = {**_row(run, run.base, result, window, run.notes), **extra}
    return CellOutcome(row, list(result.histogram), timeseries_rows(result, window))


def drive_search(run: CellRun) -> CellOutcome:
    """An SLO search on the running server, one open-loop window per step.

    Every step is written to ``search/`` (before the row, like histograms); the cell's
    row is the open-loop window at the capacity found (the highest passing rate; the
    lowest rate tried if none passed) plus the search's conclusion (``search_*`` columns).
    """
    load = run.ctx.scenario.load
    assert load.slo is not None  # the scenario requires it in search mode
    windows: list[WindowStats] = []

    def measure(rate: float) -> LoadResult:
        run.ctx.view.phase(f"search {rate:,.0f}/s")
        result, window = measure_window(
            run, step_spec(run.spec, rate), f"during the search at {rate:,.0f}/s"
        )
        windows.append(window)
        return result

    outcome = run_search(run.cell, load.slo.to_slo(), load.search.to_config(), measure)
    index, result = outcome.reported, outcome.reported_load
    if index is None or result is None:
        raise EngineError("search: no step was measured")
    server_use = [(w.cpu_s, w.rss_peak_bytes) for w in windows]
    repetition = int(run.base["repetition"])  # type: ignore[call-overload]
    write_steps(run.ctx.run_dir, run.cell.cell_id, repetition, outcome.step_rows(server_use))
    window = windows[index]
    reported = {**run.base, "mode": "open", "target_rate": outcome.result.steps[index].rate}
    row = _row(run, reported, result, window, [*run.notes, *outcome.notes()])
    row.update(outcome.cell_fields())
    return CellOutcome(row, list(result.histogram), timeseries_rows(result, window))


#: The driver of each load mode.
DRIVERS: dict[str, Driver] = {"closed": drive_fixed, "open": drive_fixed, "search": drive_search}


def in_process_if_pinned(spec: LoadSpec) -> LoadSpec:
    """One engine process, and the runner already runs on exactly its CPUs: drop ``cpus``.

    The runner pins itself to the engine CPUs for the whole run
    (``bench.runner.session.loop._pinned_self``), and children inherit that affinity; an
    unpinned single-process spec lets the native engine run in this process instead of
    spawning a pinned child for every run.
    """
    if spec.processes != 1 or not spec.cpus or not hasattr(os, "sched_getaffinity"):
        return spec
    if os.sched_getaffinity(0) != set(spec.cpus):
        return spec
    return replace(spec, cpus=None)
