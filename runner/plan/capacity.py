"""Capacity of each server configuration at an SLO, from what a run measured (pure).

How this works: the run's cells are summarised one row per cell (``bench.runner.results.summary.
summarize``: median throughput over repetitions, percentiles from the merged histogram —
never averaged). Every load point of a configuration is judged against the SLO with the
search's own rule (``bench.runner.results.search.judge_step``), then:

- searched cells (``load.mode: search``, recognised by their steps in ``search/``): the
  capacity is the highest step rate meeting the SLO, the median over repetitions, with
  their min–max;
- open-loop cells: the highest target rate meeting the SLO (and kept up with);
- closed-loop cells: the throughput of the best cell meeting the SLO. Closed-loop
  latencies are service times under N connections, not the latencies users would see
  at that arrival rate — the report says so.

A capacity is a lower bound when the SLO still held at the highest load measured (the
real limit lies beyond) or when the engine, not the server, was saturated at that point.
The first failing point above it brackets it from above.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from bench.runner.results.dimensions import SERVER_AXES
from bench.runner.results.little import little_suspect
from bench.runner.results.search import SearchConfig, Step, judge_step
from bench.runner.results.slo import Slo
from bench.runner.results.status import USABLE, status_reason
from bench.runner.units import parse_cpus

Source = Literal["search", "open", "closed"]

#: Columns that name a server configuration (the results schema's dimension columns).
CONFIG_DIMS: tuple[str, ...] = SERVER_AXES
#: The share of the target rate an open-loop window must have sent to count as kept up.
MIN_ACHIEVED = SearchConfig().min_achieved


@dataclass(frozen=True, slots=True)
class PointVerdict:
    """One measured load point of a configuration, judged against the SLO."""

    cell_id: str
    load_label: str
    load: float
    rate: float
    rps: float
    latency_us: float
    error_rate: float
    engine_bound: bool
    ok: bool
    reason: str
    little_ratio: float | None = None


@dataclass(frozen=True, slots=True)
class Capacity:
    """What one configuration sustains within the SLO.

    Attributes:
        config: the configuration's label; ``dims`` its dimension columns.
        source: where the number comes from (search steps, open- or closed-loop cells).
        capacity_rps: highest rate meeting the SLO (None: no measured point did).
        spread: min–max of the capacity over repetitions (search) or of the throughput
            of the capacity cell over its repetitions.
        lower_bound: the true capacity may be higher (see ``bound_reason``).
        at: the point the capacity was measured at; ``above``: the first failing point
            beyond it (the bracket's upper side), if measured.
        cpu_s_per_1k: server CPU-seconds per 1,000 requests at the capacity point — the
            cores kept busy by 1,000 req/s.
        rss_peak_bytes: peak resident memory of the server at the capacity point.
        server_cpus: CPUs the server was pinned to (None: not pinned).
        points: every load point judged, in load order.
        notes: remarks (re-judged search steps, failed cells, …).
    """

    config: str
    dims: Mapping[str, Any]
    source: Source
    capacity_rps: float | None
    spread: tuple[float, float] | None
    lower_bound: bool
    bound_reason: str
    at: PointVerdict | None
    above: PointVerdict | None
    cpu_s_per_1k: float | None
    rss_peak_bytes: float | None
    server_cpus: int | None
    points: tuple[PointVerdict, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def rss_per_1k_bytes(self) -> float | None:
        """Peak RSS of one instance per 1,000 req/s of its capacity."""
        if self.rss_peak_bytes is None or not self.capacity_rps:
            return None
        return self.rss_peak_bytes * 1000.0 / self.capacity_rps


def _num(value: Any) -> float | None:
    if value is None or value is pd.NA or isinstance(value, str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def percentile_column(slo: Slo) -> str:
    """The summary column of the SLO's percentile (``p99`` -> ``p99_us``)."""
    return f"{slo.percentile}_us"


def _judge_row(row: Mapping[str, Any], slo: Slo) -> PointVerdict:
    """A usable summary row judged against the SLO."""
    mode = str(row.get("mode"))
    rps = _num(row.get("rps")) or 0.0
    latency = _num(row.get(percentile_column(slo)))
    errors = _num(row.get("error_rate")) or 0.0
    engine_bound = row.get("status_kind") == "engine-bound"
    if mode == "closed":
        rate, achieved = rps, rps
    else:
        rate = _num(row.get("target_rate")) or rps
        achieved = _num(row.get("achieved_rate"))
        achieved = rps if achieved is None else achieved
    overloaded = row.get("status_kind") == "overloaded"
    step = Step(
        rate,
        math.inf if latency is None else latency,
        errors,
        achieved,
        engine_bound,
        overloaded=overloaded,
        overload_reason=status_reason(row.get("status_text")) if overloaded else "",
    )
    verdict = judge_step(step, slo, SearchConfig(min_achieved=MIN_ACHIEVED))
    reason = verdict.reason if latency is not None else f"no {slo.percentile} measured"
    return PointVerdict(
        cell_id=str(row["cell_id"]),
        load_label=str(row.get("load_label") or ""),
        load=float(row.get("load") or 0.0),
        rate=rate,
        rps=rps,
        latency_us=step.latency_us,
        error_rate=errors,
        engine_bound=engine_bound,
        ok=verdict.ok and latency is not None,
        reason="" if verdict.ok and latency is not None else reason,
        little_ratio=_num(row.get("little_ratio")),
    )


def _failed_point(row: Mapping[str, Any]) -> PointVerdict:
    return PointVerdict(
        cell_id=str(row["cell_id"]),
        load_label=str(row.get("load_label") or ""),
        load=float(row.get("load") or 0.0),
        rate=math.nan,
        rps=math.nan,
        latency_us=math.inf,
        error_rate=1.0,
        engine_bound=False,
        ok=False,
        reason=str(row.get("status_text") or "failed"),
    )


def cpu_count(text: Any) -> int | None:
    """How many CPUs a CPU-set text like ``"0-3"`` names (None: empty or unreadable)."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return len(parse_cpus(text))
    except ValueError:
        return None


def _resources(row: Mapping[str, Any] | None) -> tuple[float | None, float | None]:
    if row is None:
        return None, None
    per_request = _num(row.get("cpu_us_per_request"))
    cpu = per_request * 1000.0 / 1e6 if per_request is not None else None
    return cpu, _num(row.get("server_rss_peak_bytes"))


def _from_points(
    config: str,
    dims: Mapping[str, Any],
    rows: list[dict[str, Any]],
    slo: Slo,
) -> Capacity:
    """Capacity of a configuration measured at fixed load points (closed or open loop)."""
    source: Source = "open" if any(r.get("mode") == "open" for r in rows) else "closed"
    points: list[PointVerdict] = []
    by_cell: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for row in sorted(rows, key=lambda r: float(r.get("load") or 0.0)):
        kind = row.get("status_kind")
        if kind == "skipped":
            continue
        by_cell[str(row["cell_id"])] = row
        points.append(_judge_row(row, slo) if kind in USABLE else _failed_point(row))
        if kind == "failed":
            notes.append(f"{row.get('load_label')}: {row.get('status_text')}")
    passed = [p for p in points if p.ok]
    best = max(passed, key=lambda p: p.rate) if passed else None
    above = None
    lower_bound, bound_reason = False, ""
    if best is not None:
        higher = [p for p in points if p.load > best.load and not p.ok]
        above = higher[0] if higher else None
        if best.engine_bound:
            lower_bound, bound_reason = True, "the engine was saturated at that point"
        elif not higher and best.load >= max(p.load for p in points):
            lower_bound = True
            bound_reason = "the SLO still held at the highest load measured"
        elif not higher:
            notes.append("throughput peaked before the SLO broke: more load only queued")
    row = by_cell.get(best.cell_id) if best else None
    cpu, rss = _resources(row)
    spread = None
    if row is not None and source == "closed":
        lo, hi = _num(row.get("rps_min")), _num(row.get("rps_max"))
        spread = (lo, hi) if lo is not None and hi is not None else None
    return Capacity(
        config=config,
        dims=dims,
        source=source,
        capacity_rps=best.rate if best else None,
        spread=spread,
        lower_bound=lower_bound,
        bound_reason=bound_reason,
        at=best,
        above=above,
        cpu_s_per_1k=cpu,
        rss_peak_bytes=rss,
        server_cpus=cpu_count(rows[0].get("server_cpus")) if rows else None,
        points=tuple(points),
        notes=tuple(notes),
    )


def _step_verdict(step: Mapping[str, Any], slo: Slo) -> PointVerdict:
    """A recorded search step judged against the plan's SLO."""
    column = "latency_us" if step.get("percentile") == slo.percentile else percentile_column(slo)
    latency = _num(step.get(column))
    rate = float(step["rate"])
    achieved = _num(step.get("achieved_rate"))
    rps = _num(step.get("rps")) or 0.0
    engine_bound = bool(step.get("engine_bound")) if step.get("engine_bound") is not None else False
    s = Step(
        rate,
        math.inf if latency is None else latency,
        _num(step.get("error_rate")) or 0.0,
        rps if achieved is None else achieved,
        engine_bound,
    )
    verdict = judge_step(s, slo, SearchConfig(min_achieved=MIN_ACHIEVED))
    ok = verdict.ok and latency is not None
    return PointVerdict(
        cell_id=str(step["cell_id"]),
        load_label=f"{rate:.0f} req/s (step {int(step['step'])})",
        load=rate,
        rate=rate,
        rps=rps,
        latency_us=s.latency_us,
        error_rate=s.error_rate,
        engine_bound=engine_bound,
        ok=ok,
        reason="" if ok else (verdict.reason or f"no {slo.percentile} recorded"),
    )


def _from_search(
    config: str,
    dims: Mapping[str, Any],
    row: Mapping[str, Any],
    steps: pd.DataFrame,
    slo: Slo,
) -> Capacity:
    """Capacity of a configuration that was searched (its steps re-judged at ``slo``)."""
    notes: list[str] = []
    mine = steps[steps["cell_id"] == row["cell_id"]]
    searched = sorted({str(p) for p in mine["percentile"].dropna()} - {slo.percentile})
    if searched:
        notes.append(
            f"searched on {', '.join(searched)}; its steps re-judged on {slo.percentile} "
            "(the rates probed were chosen for the other objective)"
        )
    per_rep: list[float] = []
    best: PointVerdict | None = None
    above: PointVerdict | None = None
    all_points: list[PointVerdict] = []
    for _, rep in mine.groupby("repetition", sort=True):
        points = [_step_verdict(s, slo) for s in rep.sort_values("step").to_dict("records")]
        all_points.extend(points)
        passed = [p for p in points if p.ok]
        if not passed:
            continue
        top = max(passed, key=lambda p: p.rate)
        per_rep.append(top.rate)
        if best is None or top.rate > best.rate:
            best = top
            failing = sorted(
                (p for p in points if not p.ok and p.rate > top.rate), key=lambda p: p.rate
            )
            above = failing[0] if failing else None
    capacity = float(np.median(per_rep)) if per_rep else None
    lower_bound, bound_reason = False, ""
    if best is not None and best.engine_bound:
        lower_bound, bound_reason = (
            True,
            "the engine was saturated at that rate: the search stopped",
        )
    elif best is not None and above is None:
        lower_bound, bound_reason = True, "the SLO still held at the highest rate searched"
    elif best is not None and any(p.engine_bound for p in all_points):
        notes.append("a step was engine-bound: the search stopped there")
    if per_rep and len(per_rep) < mine["repetition"].nunique():
        notes.append(
            f"{mine['repetition'].nunique() - len(per_rep)} repetition(s) met the SLO at no rate"
        )
    cpu, rss = _resources(row)
    return Capacity(
        config=config,
        dims=dims,
        source="search",
        capacity_rps=capacity,
        spread=(min(per_rep), max(per_rep)) if per_rep else None,
        lower_bound=lower_bound,
        bound_reason=bound_reason,
        at=best,
        above=above,
        cpu_s_per_1k=cpu,
        rss_peak_bytes=rss,
        server_cpus=cpu_count(row.get("server_cpus")),
        points=tuple(sorted(all_points, key=lambda p: p.rate)),
        notes=tuple(notes),
    )


def capacities(summary: pd.DataFrame, steps: pd.DataFrame, slo: Slo) -> list[Capacity]:
    """The capacity of every configuration of the run, in matrix order.

    ``summary``: one row per cell (``bench.runner.results.summary.summarize``); ``steps``: the
    run's search steps (``bench.runner.results.steps.read_steps``; may be empty). A configuration
    whose cells were all skipped is left out.
    """
    out: list[Capacity] = []
    if summary.empty:
        return out
    searched = set(steps["cell_id"].astype(str)) if not steps.empty else set()
    ordered = summary.sort_values("cell_index", kind="stable")
    for config, group in ordered.groupby("config", sort=False):
        rows = group.to_dict("records")
        if all(r.get("status_kind") == "skipped" for r in rows):
            continue
        dims = {k: rows[0].get(k) for k in CONFIG_DIMS}
        # A searched cell is recognised by its recorded steps (its row is the open-loop
        # window at the capacity found).
        search_rows = [r for r in rows if str(r["cell_id"]) in searched]
        if search_rows:
            out.append(_from_search(str(config), dims, search_rows[0], steps, slo))
        else:
            out.append(_from_points(str(config), dims, rows, slo))
    return out


def little_deviations(summary: pd.DataFrame) -> list[tuple[str, str, float]]:
    """Closed-loop cells where rps × mean latency / connections is off by > 20%.

    Returns (config, load label, ratio) — Little's law says the ratio is 1 when every
    connection always has a request in flight; a low ratio means the connections idled
    (engine-bound, connect errors), a high one that the timing is off.
    """
    out: list[tuple[str, str, float]] = []
    if summary.empty:
        return out
    closed = summary[
        (summary["mode"] == "closed") & summary["status_kind"].isin(["ok", "engine-bound"])
    ]
    for row in closed.to_dict("records"):
        ratio = _num(row.get("little_ratio"))
        if little_suspect(ratio):
            out.append((str(row["config"]), str(row.get("load_label") or ""), ratio))
    return out


def best_of(caps: Sequence[Capacity]) -> Capacity | None:
    """The configuration with the highest capacity (None if none met the SLO)."""
    met = [c for c in caps if c.capacity_rps is not None]
    return max(met, key=lambda c: c.capacity_rps or 0.0) if met else None
