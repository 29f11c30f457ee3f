"""Where the time went, per cell, from ``cells.parquet`` (pure): worker balance and profiles.

How this works: ``worker_balance`` gives one ``Balance`` per cell that has per-worker
data — each repetition's worker shares sorted busiest first (so repetitions line up:
"the busiest worker", not "PID 4242") and averaged, next to the cell's p99 and the
side channel's loop lag and GC pauses. ``cell_profiles`` gives one ``CellProfile`` per
profiled cell repetition: its files, top functions and the profiling overhead, or the
one-line reason there is none. The terminal (``bench.runner.session.attribution_view``) and
the dashboard (``bench.dashboards.attribution``) print these same records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bench.runner.results.labels import config_label, load_label
from bench.runner.results.profile import FunctionShare, top_from_json
from bench.runner.results.status import USABLE, status_kind
from bench.runner.results.workers import shares_from_json


def _num(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _mean_sorted(lists: list[list[float]]) -> list[float]:
    """Element-wise mean of share lists sorted busiest first (lists of one length only)."""
    lists = [sorted(x, reverse=True) for x in lists if x]
    if not lists:
        return []
    n = max(len(x) for x in lists)
    same = [x for x in lists if len(x) == n]
    return [sum(x[i] for x in same) / len(same) for i in range(n)]


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


@dataclass(frozen=True)
class Balance:
    """One cell's worker balance (shares busiest first, averaged over repetitions)."""

    cell_id: str
    config: str
    load: str
    workers: int
    cpu_shares: list[float]
    request_shares: list[float]
    p99_us: float | None
    lag_p99_us: float | None
    lag_max_us: float | None
    gc_pause_s: float | None
    gc_pause_max_us: float | None

    @property
    def even_share(self) -> float:
        """Each worker's share when the load is spread evenly."""
        return 1.0 / self.workers if self.workers else 0.0


@dataclass(frozen=True)
class CellProfile:
    """One profiled cell repetition: files and top functions, or why there are none."""

    cell_id: str
    repetition: int
    config: str
    load: str
    svg: str | None
    speedscope: str | None
    samples: int | None
    rps: float | None
    profile_rps: float | None
    overhead: float | None
    note: str | None
    top: list[FunctionShare] = field(default_factory=list)
    profiler_cores: float | None = None  # py-spy's own CPU while it recorded


def _usable(cells: pd.DataFrame) -> list[dict[str, Any]]:
    if cells.empty:
        return []
    ordered = cells.sort_values(["cell_index", "repetition"], kind="stable")
    return [r for r in ordered.to_dict("records") if status_kind(r.get("status")) in USABLE]


def worker_balance(cells: pd.DataFrame) -> list[Balance]:
    """One Balance per cell with per-worker CPU data, in matrix order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in _usable(cells):
        if shares_from_json(row.get("worker_cpu_shares")):
            groups.setdefault(str(row["cell_id"]), []).append(row)
    out: list[Balance] = []
    for cell_id, rows in groups.items():
        cpu = _mean_sorted([shares_from_json(r.get("worker_cpu_shares")) for r in rows])
        req = _mean_sorted([shares_from_json(r.get("worker_request_shares")) for r in rows])
        out.append(
            Balance(
                cell_id=cell_id,
                config=config_label(rows[0]),
                load=load_label(rows[0]),
                workers=len(cpu),
                cpu_shares=cpu,
                request_shares=req,
                p99_us=_mean([_num(r.get("p99_us")) for r in rows]),
                lag_p99_us=_mean([_num(r.get("loop_lag_p99_us")) for r in rows]),
                lag_max_us=max(
                    (v for r in rows if (v := _num(r.get("loop_lag_max_us"))) is not None),
                    default=None,
                ),
                gc_pause_s=_mean([_num(r.get("gc_pause_s")) for r in rows]),
                gc_pause_max_us=max(
                    (v for r in rows if (v := _num(r.get("gc_pause_max_us"))) is not None),
                    default=None,
                ),
            )
        )
    return out


def cell_profiles(cells: pd.DataFrame) -> list[CellProfile]:
    """One CellProfile per cell repetition that asked for a profile, in matrix order."""
    out: list[CellProfile] = []
    for row in _usable(cells):
        svg, note = row.get("profile_svg"), row.get("profile_note")
        if not isinstance(svg, str) and not isinstance(note, str):
            continue
        samples = _num(row.get("profile_samples"))
        out.append(
            CellProfile(
                cell_id=str(row["cell_id"]),
                repetition=int(row["repetition"]),
                config=config_label(row),
                load=load_label(row),
                svg=svg if isinstance(svg, str) else None,
                speedscope=s if isinstance(s := row.get("profile_speedscope"), str) else None,
                samples=int(samples) if samples is not None else None,
                rps=_num(row.get("rps")),
                profile_rps=_num(row.get("profile_rps")),
                overhead=_num(row.get("profile_overhead")),
                note=note if isinstance(note, str) else None,
                top=top_from_json(row.get("profile_top")),
                profiler_cores=_num(row.get("profile_cpu_share")),
            )
        )
    return out


def describe_shares(shares: list[float]) -> str:
    """``"61% / 39%"`` (busiest first); ``"–"`` when there are none."""
    return " / ".join(f"{s:.0%}" for s in shares) if shares else "–"
