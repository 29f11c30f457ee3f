"""How throughput scales: USL fits over workers, threads and concurrency (pure).

How this works: a *family* is a set of configurations that differ only along one axis —
``prefork sync`` with 1, 2, 4 workers (axis ``workers``), ``prefork thread w1`` with 8 and
32 threads (axis ``threads``) — or one configuration across its closed-loop load points
(axis ``concurrency``). For workers and threads, each configuration contributes its best
throughput over its load points (the cell with the highest median req/s); every usable
repetition of that cell is a point, so the bootstrap sees the run-to-run spread. For
concurrency, every repetition of every closed-loop cell is a point.

Engine-bound cells are left out of a fit (their throughput is the engine's); a family
with fewer than two distinct N has no axis and gets no entry. ``bench.runner.plan.usl.fit_usl``
fits and refuses; with fewer than ``usl.MIN_POINTS`` distinct N no fit is attempted and
the refusal says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from bench.runner.plan.capacity import CONFIG_DIMS, cpu_count
from bench.runner.plan.usl import MIN_POINTS, USLFit, fit_usl

Axis = Literal["workers", "threads", "concurrency"]
AXES: tuple[Axis, ...] = ("workers", "threads", "concurrency")
#: Status kinds whose throughput belongs in a fit.
FIT_KINDS: frozenset[str] = frozenset({"ok"})


@dataclass(frozen=True, slots=True)
class ScalingFit:
    """Throughput vs one axis for one family, and its USL fit (if one was attempted).

    ``n``/``x`` are the fitted points (one per usable repetition); ``fit`` is None when
    too few distinct N were measured; ``refusals`` say why the fit must not be used
    (``fit.refusals`` plus the reasons no fit was attempted); ``notes`` what was left out.
    """

    axis: Axis
    family: str
    n: tuple[float, ...]
    x: tuple[float, ...]
    fit: USLFit | None
    refusals: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    server_cpus: int | None = None

    @property
    def usable(self) -> bool:
        """True when the fit may be used (and extrapolated to its peak)."""
        return self.fit is not None and not self.refusals


def family_label(dims: Mapping[str, Any], axis: Axis) -> str:
    """The label of a family: the configuration's label without the axis."""
    parts = [str(dims.get("server") or "?")]
    if _has(dims.get("worker_class")):
        parts.append(str(dims["worker_class"]))
    size = []
    if axis != "workers" and _has(dims.get("workers")):
        size.append(f"w{int(dims['workers'])}")
    if axis != "threads" and _has(dims.get("threads")):
        size.append(f"t{int(dims['threads'])}")
    if size:
        parts.append("×".join(size))
    for name in ("loop", "http"):
        if _has(dims.get(name)):
            parts.append(str(dims[name]))
    if dims.get("interface") == "wsgi" and dims.get("server") in (
        "eventloop",
        "granian",
        "hypercorn",
    ):
        parts.append("wsgi")
    return " ".join(parts)


def _has(value: Any) -> bool:
    if value is None or value is pd.NA:
        return False
    return not (isinstance(value, float) and np.isnan(value))


def _family_key(row: Mapping[str, Any], axis: Axis) -> tuple[Any, ...]:
    # The load mode is part of the family: a searched capacity and a closed-loop peak
    # are different quantities and do not belong on one curve.
    keys = [k for k in CONFIG_DIMS if k != axis] + ["mode"]
    return tuple(None if not _has(row.get(k)) else row.get(k) for k in keys)


def _rep_rps(cells: pd.DataFrame, cell_id: str) -> list[float]:
    mine = cells[(cells["cell_id"] == cell_id) & (cells["status"] == "ok")]
    return [float(v) for v in mine["rps"].dropna()]


def _fit(
    axis: Axis,
    family: str,
    n: Sequence[float],
    x: Sequence[float],
    notes: list[str],
    server_cpus: int | None,
) -> ScalingFit | None:
    distinct = len(set(n))
    if distinct < 2:
        return None
    if distinct < MIN_POINTS:
        refusal = f"only {distinct} distinct {axis} values; the fit needs at least {MIN_POINTS}"
        return ScalingFit(
            axis, family, tuple(n), tuple(x), None, (refusal,), tuple(notes), server_cpus
        )
    try:
        fit = fit_usl(list(n), list(x))
    except (ValueError, RuntimeError, TypeError) as exc:
        reason = f"the fit did not converge: {exc}"
        return ScalingFit(
            axis, family, tuple(n), tuple(x), None, (reason,), tuple(notes), server_cpus
        )
    return ScalingFit(
        axis, family, tuple(n), tuple(x), fit, fit.refusals, tuple(notes), server_cpus
    )


def _server_cpus(rows: Sequence[Mapping[str, Any]]) -> int | None:
    counts = [c for c in (cpu_count(r.get("server_cpus")) for r in rows) if c is not None]
    return min(counts) if counts else None


def fits_over(summary: pd.DataFrame, cells: pd.DataFrame, axis: Axis) -> list[ScalingFit]:
    """One ``ScalingFit`` per family that varies along ``workers`` or ``threads``."""
    out: list[ScalingFit] = []
    usable = summary[summary["status_kind"].isin(["ok", "engine-bound"])]
    if usable.empty:
        return out
    ordered = usable.sort_values("cell_index", kind="stable")
    families: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in ordered.to_dict("records"):
        if _has(row.get(axis)):
            families.setdefault(_family_key(row, axis), []).append(row)
    for rows in families.values():
        label = family_label(rows[0], axis)
        n: list[float] = []
        x: list[float] = []
        notes: list[str] = []
        for value in sorted({int(r[axis]) for r in rows}):
            candidates = [r for r in rows if int(r[axis]) == value]
            fit_rows = [r for r in candidates if r["status_kind"] in FIT_KINDS]
            if len(fit_rows) < len(candidates):
                notes.append(f"{axis}={value}: engine-bound cells left out")
            if not fit_rows:
                continue
            best = max(fit_rows, key=lambda r: float(r["rps"]))
            for rps in _rep_rps(cells, str(best["cell_id"])):
                n.append(float(value))
                x.append(rps)
        fit = _fit(axis, label, n, x, notes, _server_cpus(rows))
        if fit is not None:
            out.append(fit)
    return out


def fits_over_concurrency(summary: pd.DataFrame, cells: pd.DataFrame) -> list[ScalingFit]:
    """One ``ScalingFit`` per configuration measured at several closed-loop concurrencies."""
    out: list[ScalingFit] = []
    closed = summary[
        (summary["mode"] == "closed") & summary["status_kind"].isin(["ok", "engine-bound"])
    ]
    for config, group in closed.sort_values("cell_index", kind="stable").groupby(
        "config", sort=False
    ):
        n: list[float] = []
        x: list[float] = []
        notes: list[str] = []
        rows = group.to_dict("records")
        for row in sorted(rows, key=lambda r: int(r["concurrency"])):
            if row["status_kind"] not in FIT_KINDS:
                notes.append(f"c={int(row['concurrency'])}: engine-bound, left out")
                continue
            for rps in _rep_rps(cells, str(row["cell_id"])):
                n.append(float(row["concurrency"]))
                x.append(rps)
        fit = _fit("concurrency", str(config), n, x, notes, _server_cpus(rows))
        if fit is not None:
            out.append(fit)
    return out


def scaling_fits(summary: pd.DataFrame, cells: pd.DataFrame) -> list[ScalingFit]:
    """Every family's fit: over workers, then threads, then concurrency."""
    if summary.empty:
        return []
    return [
        *fits_over(summary, cells, "workers"),
        *fits_over(summary, cells, "threads"),
        *fits_over_concurrency(summary, cells),
    ]
