"""The run loop: every cell × repetition, each on a freshly started server.

How this works: for each (cell, repetition) of the schedule (repetitions interleaved, see
``runner.matrix.schedule``) not already in the run folder, ``run_cell``

1. starts the server configuration in its own process group on the server CPUs and
   waits until it answers HTTP (``runner.launch``);
2. samples the server's process tree (CPU, RSS) in a background thread;
3. runs the primer (short, low concurrency, discarded), then warm-up + measured window
   in one engine run (``runner.engines``);
4. stops the server (TERM, KILL after the timeout) and kills anything left behind;
5. turns it all into one row (``runner.rows``), stored at once (``runner.results``).

Failures (no start, crash, engine error, nothing valid measured) become a row with status
``failed: reason`` and the loop goes on. A stop request (Ctrl-C sets ``stop``) ends the
engine run early; that cell is thrown away (not recorded), its server stopped, and the
loop ends: every finished cell is on disk and ``--resume`` runs the rest.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from runner.engines.base import Engine
from runner.errors import EngineError, LaunchError, UsageError
from runner.launch import ServerProcess, TreeSampler, WindowStats, free_port
from runner.loadspec import LoadResult, LoadSpec
from runner.matrix import Cell
from runner.pinning import Pinning
from runner.progress import RunView
from runner.results.manifest import utc_now
from runner.results.store import RunStore, atomic_write_json
from runner.rows import (
    cell_row,
    cell_spec,
    dimension_fields,
    failed_row,
    primer_spec,
    timeseries_rows,
)
from runner.scenario import Scenario
from runner.server_commands import server_command

#: Seconds assumed for starting and stopping a server, before one was measured.
STARTUP_GUESS_S = 1.5


class Interrupted(Exception):
    """The user asked to stop; the current cell is not recorded."""


@dataclass
class RunContext:
    """Everything the loop needs besides the schedule."""

    scenario: Scenario
    run_dir: Path
    run_id: str
    pinning: Pinning
    engine: Engine
    view: RunView
    stop: threading.Event
    skipped: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass
class CellOutcome:
    """One cell repetition's row, histogram and time series."""

    row: dict[str, Any]
    histogram: list[tuple[int, int]] = field(default_factory=list)
    timeseries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunOutcome:
    """How the loop ended."""

    done: int
    failed: int
    interrupted: bool


def cell_estimate_s(scenario: Scenario) -> float:
    """A guess of one cell repetition's wall time (for the time-left display)."""
    load = scenario.load
    if load.mode == "search":  # search mode (bench plan): several windows per cell
        from runner.plan.execute import search_estimate_s

        window = load.warmup + load.duration
        return STARTUP_GUESS_S + load.primer + search_estimate_s(load.search.to_config(), window)
    return STARTUP_GUESS_S + load.primer + load.warmup + load.duration


def run_cell(ctx: RunContext, cell: Cell, repetition: int) -> CellOutcome:
    """Run one cell repetition; failures become a ``failed:`` row.

    Raises:
        Interrupted: ``ctx.stop`` was set while the cell ran (the cell is thrown away).
    """
    scenario = ctx.scenario
    pin = ctx.pinning
    base = dimension_fields(cell, scenario, ctx.run_id, repetition)
    base["started_at"] = utc_now()
    cpus = {"server_cpus": pin.server_cpus, "engine_cpus": pin.engine_cpus}
    if cell.cell_id in ctx.skipped:
        row = failed_row(base, ctx.skipped[cell.cell_id], notes=[], status_prefix="skipped", **cpus)
        return CellOutcome({**row, "finished_at": utc_now()})
    host = scenario.launch.host
    port = free_port(host)
    command = server_command(cell.server, scenario.workload, host, port)
    log = ctx.run_dir / "logs" / f"{cell.cell_id}-r{repetition}.log"
    server = ServerProcess(
        command.argv, env={**command.env, **ctx.extra_env}, cpus=pin.server_cpus, log_path=log
    )
    notes: list[str] = []
    outcome: CellOutcome
    try:
        ctx.view.phase("starting server")
        server.start()
        startup = server.wait_ready(
            host,
            port,
            scenario.workload.path,
            scenario.launch.ready_timeout,
            should_stop=ctx.stop.is_set,
        )
        with TreeSampler(server) as sampler:
            outcome = _drive(ctx, cell, base, port, server, sampler, startup, notes)
    except LaunchError as exc:
        if ctx.stop.is_set():
            raise Interrupted from None
        outcome = CellOutcome(failed_row(base, str(exc), notes=notes, **cpus))
    except (EngineError, UsageError) as exc:
        if ctx.stop.is_set():
            raise Interrupted from None
        outcome = CellOutcome(failed_row(base, f"engine: {exc}", notes=notes, **cpus))
    finally:
        ctx.view.phase("stopping server")
        report = server.stop(scenario.launch.stop_timeout)
    # A cell whose window completed is kept even if Ctrl-C came while its server stopped.
    extra: list[str] = []
    if report.killed:
        extra.append(f"server needed SIGKILL after {scenario.launch.stop_timeout:g}s")
    if report.leftovers:
        extra.append(f"killed {len(report.leftovers)} leftover process(es) after stop")
    if extra:
        outcome.row["notes"] = "; ".join(filter(None, [outcome.row.get("notes", ""), *extra]))
    outcome.row["finished_at"] = utc_now()
    return outcome


def _drive(
    ctx: RunContext,
    cell: Cell,
    base: dict[str, Any],
    port: int,
    server: ServerProcess,
    sampler: TreeSampler,
    startup: float,
    notes: list[str],
) -> CellOutcome:
    """Primer, then warm-up + window; the server is up and being sampled."""
    scenario = ctx.scenario
    pin = ctx.pinning
    host = scenario.launch.host
    spec = _in_process_if_pinned(cell_spec(cell, scenario, host, port, pin.engine_cpus))
    if scenario.load.primer > 0:
        ctx.view.phase("primer")
        primer = _in_process_if_pinned(primer_spec(spec, scenario.load.primer))
        primed = ctx.engine.run(primer, stop=ctx.stop)
        if ctx.stop.is_set():
            raise Interrupted
        if primed.requests == 0:
            kinds = ", ".join(f"{k} {v}" for k, v in primed.errors.items() if v) or "none"
            raise LaunchError(f"primer: no valid response (errors: {kinds})" + _exit_note(server))
    if cell.load.mode == "search":  # search mode (bench plan)
        return _drive_search(ctx, cell, base, spec, server, sampler, startup, notes)
    ctx.view.phase("warm-up" if scenario.load.warmup else "measuring")
    result = ctx.engine.run(spec, progress=ctx.view.engine_progress, stop=ctx.stop)
    end = time.monotonic()
    sampler.sample()
    if ctx.stop.is_set():
        raise Interrupted
    code = server.returncode()
    if code is not None:
        raise LaunchError(f"server exited with code {code} during the run" + _exit_note(server))
    window: WindowStats = sampler.window(end - result.duration_s, end)
    row = cell_row(
        base,
        result,
        window,
        slo=scenario.slo,
        server_cpus=pin.server_cpus,
        engine_cpus=pin.engine_cpus,
        startup_s=startup,
        notes=notes,
    )
    return CellOutcome(row, list(result.histogram), timeseries_rows(result, window))


# ---------------------------------------------------------------- search mode (bench plan)


def _drive_search(
    ctx: RunContext,
    cell: Cell,
    base: dict[str, Any],
    spec: LoadSpec,
    server: ServerProcess,
    sampler: TreeSampler,
    startup: float,
    notes: list[str],
) -> CellOutcome:
    """An SLO search on the running server, one open-loop window per step.

    ``runner.plan.execute.run_search`` picks the rates; every step is written to
    ``search/`` (before the row, like histograms); the cell's row is the open-loop window
    at the capacity found (the highest passing rate; the lowest rate tried if none passed)
    plus the search's conclusion (``search_*`` columns).
    """
    from runner.plan.execute import run_search, step_spec
    from runner.plan.steps import write_steps

    scenario = ctx.scenario
    pin = ctx.pinning
    load = scenario.load
    assert load.slo is not None  # the scenario requires it in search mode
    windows: list[WindowStats] = []

    def measure(rate: float) -> LoadResult:
        ctx.view.phase(f"search {rate:,.0f}/s")
        result = ctx.engine.run(
            step_spec(spec, rate), progress=ctx.view.engine_progress, stop=ctx.stop
        )
        end = time.monotonic()
        sampler.sample()
        if ctx.stop.is_set():
            raise Interrupted
        code = server.returncode()
        if code is not None:
            raise LaunchError(
                f"server exited with code {code} during the search at {rate:,.0f}/s"
                + _exit_note(server)
            )
        windows.append(sampler.window(end - result.duration_s, end))
        return result

    outcome = run_search(cell, load.slo.to_slo(), load.search.to_config(), measure)
    index, result = outcome.reported, outcome.reported_load
    if index is None or result is None:
        raise EngineError("search: no step was measured")
    server_use = [(w.cpu_s, w.rss_peak_bytes) for w in windows]
    write_steps(ctx.run_dir, cell.cell_id, int(base["repetition"]), outcome.step_rows(server_use))
    window = windows[index]
    reported = {**base, "mode": "open", "target_rate": outcome.result.steps[index].rate}
    row = cell_row(
        reported,
        result,
        window,
        slo=scenario.slo,
        server_cpus=pin.server_cpus,
        engine_cpus=pin.engine_cpus,
        startup_s=startup,
        notes=[*notes, *outcome.notes()],
    )
    row.update(outcome.cell_fields())
    return CellOutcome(row, list(result.histogram), timeseries_rows(result, window))


# ---------------------------------------------------------------- end search mode


def _in_process_if_pinned(spec: LoadSpec) -> LoadSpec:
    """One engine process, and the runner already runs on exactly its CPUs: drop ``cpus``.

    The runner pins itself to the engine CPUs for the whole run (``_pinned_self``), and
    children inherit that affinity; an unpinned single-process spec lets the native
    engine run in this process instead of spawning a pinned child for every run.
    """
    if spec.processes != 1 or not spec.cpus or not hasattr(os, "sched_getaffinity"):
        return spec
    if os.sched_getaffinity(0) != set(spec.cpus):
        return spec
    return replace(spec, cpus=None)


def _exit_note(server: ServerProcess) -> str:
    from runner.launch import log_tail

    tail = log_tail(server.log_path)
    return f": {tail}" if tail else ""


@contextlib.contextmanager
def _pinned_self(cpus: tuple[int, ...] | None):  # type: ignore[no-untyped-def]
    """Run the runner itself (and an in-process engine) on the engine CPUs.

    Linux applies affinity per thread: this pins the calling (main) thread, and every
    thread and process it starts afterwards inherits it.
    """
    if not cpus or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def execute(
    ctx: RunContext,
    order: Sequence[tuple[Cell, int]],
    store: RunStore,
    manifest: dict[str, Any],
) -> RunOutcome:
    """Run every scheduled cell repetition that the store does not have yet."""
    done_before = store.done()
    todo = [(c, r) for c, r in order if (c.cell_id, r) not in done_before]
    repeat = max((r for _, r in order), default=0) + 1
    per_cell = cell_estimate_s(ctx.scenario)
    done = failed = 0
    spent = 0.0
    interrupted = False
    with _pinned_self(ctx.pinning.engine_cpus):
        ctx.view.run_started(len(todo), per_cell * len(todo))  # its refresh thread: pinned too
        for n, (cell, rep) in enumerate(todo, 1):
            if ctx.stop.is_set():
                interrupted = True
                break
            ctx.view.cell_started(n, cell, rep, repeat)
            began = time.monotonic()
            try:
                outcome = run_cell(ctx, cell, rep)
            except Interrupted:
                interrupted = True
                break
            store.add(outcome.row, outcome.histogram, outcome.timeseries)
            done += 1
            failed += outcome.row["status"].startswith("failed")
            spent += time.monotonic() - began
            manifest["cells_done"] = len(store.cells)
            manifest["cells_failed"] = sum(
                str(r["status"]).startswith("failed") for r in store.cells
            )
            atomic_write_json(ctx.run_dir / "manifest.json", manifest)
            average = spent / done
            ctx.view.cell_finished(outcome.row, average * (len(todo) - n))
    return RunOutcome(done=done, failed=failed, interrupted=interrupted)
