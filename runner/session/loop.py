"""The run loop: every scheduled cell × repetition not yet in the run folder, in order.

How this works: ``execute`` pins the runner itself to the engine CPUs (``_pinned_self``),
then for each (cell, repetition) of the schedule (repetitions interleaved, see
``bench.runner.matrix.schedule``) that the store does not have yet, runs it
(``bench.runner.session.cell.run_cell``), stores its row, histogram and time series at once,
and rewrites the manifest's counts — so an interrupted run loses at most the cell that
was running, and ``--resume`` runs the rest.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bench.runner.matrix.cells import Cell
from bench.runner.results.store import RunStore, atomic_write_json
from bench.runner.scenario.model import Scenario
from bench.runner.session.cell import run_cell
from bench.runner.session.context import Interrupted, RunContext
from bench.runner.session.search import search_estimate_s

#: Seconds assumed for starting and stopping a server, before one was measured.
STARTUP_GUESS_S = 1.5


@dataclass
class RunOutcome:
    """How the loop ended."""

    done: int
    failed: int
    interrupted: bool


def cell_estimate_s(scenario: Scenario) -> float:
    """A guess of one cell repetition's wall time (for the time-left display)."""
    load = scenario.load
    window = load.warmup + load.duration
    if load.mode == "search":  # several windows per cell
        window = search_estimate_s(load.search.to_config(), window)
    elif scenario.profile:  # a clean window, then a profiled one (session.profiling)
        window *= 2
    return STARTUP_GUESS_S + load.primer + window


@contextlib.contextmanager
def _pinned_self(cpus: tuple[int, ...] | None) -> Iterator[None]:
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
