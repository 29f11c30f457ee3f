"""A capacity plan of one run folder: read, summarise, judge, fit, recommend, bound.

``build_plan(run_dir, slo, target_rps, headroom)`` is the composition root of
``bench plan``: it reads the run through the results reader (``bench.runner.results.load_run``
and ``bench.runner.results.steps.read_steps``), summarises cells the way the dashboards do, and
hands plain tables to the pure parts — ``capacity``, ``scaling``, ``recommend``,
``limits``. The ``Plan`` it returns is all the reports need.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.runner.errors import UsageError
from bench.runner.plan.capacity import Capacity, capacities
from bench.runner.plan.event_limits import event_limits
from bench.runner.plan.limits import Limit, limits
from bench.runner.plan.recommend import Recommendation, recommend
from bench.runner.plan.scaling import ScalingFit, scaling_fits
from bench.runner.results.event_table import load_events
from bench.runner.results.slo import Slo
from bench.runner.results.steps import read_steps
from bench.runner.results.store import load_run
from bench.runner.results.summary import summarize


@dataclass(frozen=True)
class Plan:
    """Everything a capacity report shows.

    Attributes:
        run_dir: the run folder; ``manifest`` its manifest.
        slo: the objective capacities are judged on.
        summary: one row per cell (``bench.runner.results.summary.summarize``).
        cells: ``cells.parquet``; ``steps``: the search steps (may be empty).
        capacities: per configuration, in matrix order.
        recommendation: ranked options for the target.
        fits: USL fits per family and axis.
        limits: what bounds the plan.
    """

    run_dir: Path
    manifest: dict[str, Any]
    slo: Slo
    summary: pd.DataFrame
    cells: pd.DataFrame
    steps: pd.DataFrame
    capacities: tuple[Capacity, ...]
    recommendation: Recommendation
    fits: tuple[ScalingFit, ...]
    limits: tuple[Limit, ...]

    @property
    def scenario(self) -> str:
        """The scenario's name."""
        name = self.manifest.get("scenario")
        if not name and not self.cells.empty:
            name = str(self.cells["scenario"].dropna().iloc[0])
        return str(name or "unnamed scenario")


def build_plan(
    run_dir: Path, slo: Slo, target_rps: float | None = None, headroom: float = 0.3
) -> Plan:
    """Read ``run_dir`` and plan capacity at ``slo`` (on its one judged percentile).

    Raises:
        UsageError: not a run folder, unreadable results, or no measured cell.
    """
    run_dir = Path(run_dir)
    slo = slo.narrowed()
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: no such run folder")
    if not (run_dir / "cells.parquet").exists():
        raise UsageError(f"{run_dir}: not a run folder with results (no cells.parquet)")
    try:
        data = load_run(run_dir)
        keys = zip(data.cells["cell_id"], data.cells["repetition"], strict=True)
        steps = read_steps(run_dir, [(str(c), int(r)) for c, r in keys])
    except (OSError, ValueError) as exc:
        raise UsageError(f"{run_dir}: cannot read the results: {exc}") from None
    if data.cells.empty:
        raise UsageError(f"{run_dir}: the run has no cells yet")
    summary = summarize(data.cells, data.histograms)
    caps = capacities(summary, steps, slo)
    if not caps:
        raise UsageError(f"{run_dir}: every cell was skipped; nothing to plan from")
    fits = scaling_fits(summary, data.cells)
    rec = recommend(caps, target_rps, headroom)
    bounds = limits(data.manifest, summary, data.cells, caps, fits)
    bounds += event_limits(load_events(run_dir, data.cells), data.cells)
    return Plan(
        run_dir=run_dir,
        manifest=dict(data.manifest),
        slo=slo,
        summary=summary,
        cells=data.cells,
        steps=steps,
        capacities=tuple(caps),
        recommendation=rec,
        fits=tuple(fits),
        limits=tuple(bounds),
    )
