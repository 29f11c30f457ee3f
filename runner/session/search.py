"""The SLO search of ONE server configuration, driven by real measured windows.

How this works: the runner starts the server once, then calls ``run_search`` with a
``measure_window(rate)`` callable that runs one open-loop window (warm-up + measured
window, see ``step_spec``) at that arrival rate against it and returns the engine's
``LoadResult``. ``run_search`` turns each result into a search ``Step`` (the SLO's
percentile from ``latency_us``, the error rate, the achieved rate, engine-bound) and
lets ``bench.runner.results.search.search`` decide the next rate and when to stop. Every step is
kept: ``SearchOutcome.step_rows`` is the ``search/`` table of the cell
(``bench.runner.results.steps``), ``cell_fields`` the search columns of its ``cells.parquet`` row,
and ``reported`` says which step's measurement that row holds (the capacity step, the
highest passing rate; when nothing passed, the lowest rate tried).

``measure_window`` is called exactly once per step, in order, so the runner can keep
its own per-step data (the server's CPU and memory in each window) by index.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bench.runner.loadspec import LoadResult, LoadSpec
from bench.runner.matrix.cells import Cell
from bench.runner.results.search import SearchConfig, SearchResult, Step, search
from bench.runner.results.slo import Slo


def step_spec(spec: LoadSpec, rate: float) -> LoadSpec:
    """The cell's load spec turned into one open-loop search window at ``rate``."""
    return replace(spec, mode="open", rate=float(rate))


def error_rate(result: LoadResult) -> float:
    """errors / (requests + errors); 1.0 when nothing at all came back."""
    attempts = result.requests + result.error_count
    return result.error_count / attempts if attempts else 1.0


def to_step(rate: float, result: LoadResult, slo: Slo) -> Step:
    """One measured window as a search step (a missing percentile counts as infinite)."""
    latency = result.latency_us.get(slo.percentile)
    if latency is None or result.requests == 0:
        latency = math.inf
    achieved = result.achieved_rate if result.achieved_rate is not None else result.rps
    return Step(
        rate=float(rate),
        latency_us=float(latency),
        error_rate=error_rate(result),
        achieved_rate=float(achieved),
        engine_bound=bool(result.engine_bound),
        overloaded=result.overloaded,
        overload_reason=str((result.overload or {}).get("reason") or ""),
    )


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """A finished search of one configuration: its decision and every measured window."""

    cell_id: str
    label: str
    slo: Slo
    result: SearchResult
    loads: tuple[LoadResult, ...]

    @property
    def capacity(self) -> float | None:
        """The highest arrival rate that met the SLO (None if none did)."""
        return self.result.capacity

    @property
    def reported(self) -> int | None:
        """Index of the step whose measurement the cell's row holds (None: no step)."""
        steps = self.result.steps
        if not steps:
            return None
        passed = [i for i, v in enumerate(self.result.verdicts) if v.ok]
        if passed:
            return max(passed, key=lambda i: steps[i].rate)
        return min(range(len(steps)), key=lambda i: steps[i].rate)

    @property
    def reported_load(self) -> LoadResult | None:
        """The ``LoadResult`` of the reported step."""
        index = self.reported
        return None if index is None else self.loads[index]

    def step_rows(
        self, server: Sequence[tuple[float | None, int | None]] | None = None
    ) -> list[dict[str, Any]]:
        """One row per step (``SEARCH_STEP_COLUMNS`` without cell_id/repetition).

        ``server``: optional (CPU seconds, peak RSS bytes) of the server in each step's
        window, in step order.
        """
        rows: list[dict[str, Any]] = []
        for i, (step, verdict, load) in enumerate(
            zip(self.result.steps, self.result.verdicts, self.loads, strict=True)
        ):
            cpu, rss = server[i] if server is not None and i < len(server) else (None, None)
            lat = load.latency_us
            rows.append(
                {
                    "step": i,
                    "rate": step.rate,
                    "achieved_rate": step.achieved_rate,
                    "rps": load.rps,
                    "requests": load.requests,
                    "errors": load.error_count,
                    "error_rate": step.error_rate,
                    "percentile": self.slo.percentile,
                    "latency_us": step.latency_us if math.isfinite(step.latency_us) else None,
                    "p50_us": lat.get("p50"),
                    "p99_us": lat.get("p99"),
                    "latency_mean_us": lat.get("mean"),
                    "engine_cpu": load.engine_cpu,
                    "engine_bound": step.engine_bound,
                    "server_cpu_s": cpu,
                    "server_rss_peak_bytes": rss,
                    "passed": verdict.ok,
                    "reason": verdict.reason,
                }
            )
        return rows

    def cell_fields(self) -> dict[str, Any]:
        """The search columns of the cell's row (``SEARCH_CELL_COLUMNS``)."""
        return {
            "search_slo": self.slo.describe(),
            "search_capacity": self.capacity,
            "search_steps": len(self.result.steps),
            "search_converged": self.result.converged,
            "search_reason": self.result.reason,
        }

    def notes(self) -> list[str]:
        """Human remarks for the cell's ``notes`` column."""
        if self.capacity is None:
            return [f"search: no rate met {self.slo.describe()} ({self.result.reason})"]
        text = (
            f"search: {self.capacity:.0f} req/s met {self.slo.describe()} "
            f"after {len(self.result.steps)} steps ({self.result.reason})"
        )
        return [text]


def run_search(
    cell: Cell,
    slo: Slo,
    cfg: SearchConfig,
    measure_window: Callable[[float], LoadResult],
) -> SearchOutcome:
    """Search the highest arrival rate meeting ``slo`` for one server configuration.

    Each step calls ``measure_window(rate)`` — a real measured window against the
    already-running server — and the search stops at ``cfg``'s precision, its step cap,
    its rate bounds, or the first engine-bound step. Exceptions from ``measure_window``
    (an interrupted run, an engine error) propagate: the caller records the cell failed.
    """
    loads: list[LoadResult] = []

    def measure(rate: float) -> Step:
        result = measure_window(rate)
        loads.append(result)
        return to_step(rate, result, slo)

    result = search(measure, slo, cfg)
    return SearchOutcome(
        cell_id=cell.cell_id,
        label=cell.server.describe(),
        slo=slo,
        result=result,
        loads=tuple(loads),
    )


def search_estimate_s(cfg: SearchConfig, window_s: float, expected_steps: int = 8) -> float:
    """A guess of one search's wall time: ``expected_steps`` windows (at most ``max_steps``)."""
    return min(expected_steps, cfg.max_steps) * window_s
