"""Scaling figures: throughput and p99 against the load point, workers or threads.

``throughput_vs_load``: one line per configuration through its load points (concurrency,
or target rate in open loop); top: req/s with the repetitions' min–max as error bars;
bottom: p99. Failed cells are ✕ at their load point.

``capacity_vs(summary, "workers" | "threads")``: for each family of configurations that
differ only in that axis (e.g. ``prefork sync`` with 1, 2, 4 workers), top: the best
throughput over its load points, each point labelled with the load it was reached at;
bottom: the p99 of every member at one shared load (``shared_load``: the highest load
point every member has a usable cell at), so the line compares like with like instead
of zig-zagging between the best cells' different loads. Families with a single value of
the axis are left out; the function returns None when no family varies.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.figures.marks import (
    add_slo_lines,
    cell_hover,
    latency_axis_type,
    load_axis,
    mark_failed_at_x,
    rps_spread,
    series_trace,
    use_log_axis,
)
from bench.dashboards.tables import load_axis_title, ordered_series, rate_unit
from bench.dashboards.theme import (
    colors_for,
    esc,
    latency_unit,
    log_ticks,
    no_data,
    style,
    subplots,
)
from bench.runner.results.dimensions import CONFIG_COLUMNS
from bench.runner.results.labels import config_label
from bench.runner.results.slo import Slo
from bench.runner.results.status import USABLE

Axis = Literal["workers", "threads"]


def throughput_vs_load(summary: pd.DataFrame, slo: Slo | None = None) -> go.Figure:
    """req/s and p99 against the load point, one line per configuration."""
    fig = subplots(2, vertical_spacing=0.08)
    mode = "open" if (summary["mode"] == "open").any() else "closed"
    style(fig, title=f"Throughput and p99 vs {load_axis_title(mode).split(' (')[0]}", height=620)
    usable = summary[summary["status_kind"].isin(USABLE)]
    if summary.empty:
        return no_data(fig, "No cells in this run.")
    unit = latency_unit(usable["p99_us"])
    colors = colors_for(ordered_series(summary))
    for config in ordered_series(usable):
        rows = usable[usable["series"] == config].sort_values("load")
        color = colors[config]
        hover = [cell_hover(r) for _, r in rows.iterrows()]
        common = series_trace(rows["load"], rows, config, color, hover)
        spread = rps_spread(rows)
        fig.add_trace(
            go.Scatter(y=list(rows["rps"]), name=esc(config), error_y=spread, **common),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(y=unit.scale(rows["p99_us"]), name=esc(config), showlegend=False, **common),
            row=2,
            col=1,
        )
    log_x = load_axis(fig, summary)
    failed = summary[~summary["status_kind"].isin(USABLE)]
    mark_failed_at_x(fig, failed, xref="x", yref="y", log_x=log_x)
    p99_scale = latency_axis_type(list(usable["p99_us"]))
    add_slo_lines(fig, slo, unit, keys=("p99",), row=2, col=1, log_y=p99_scale == "log")
    fig.update_xaxes(title_text=load_axis_title(mode), row=2, col=1)
    fig.update_yaxes(
        title_text=f"throughput ({rate_unit(summary)})", rangemode="tozero", row=1, col=1
    )
    fig.update_yaxes(title_text=f"p99 latency ({unit.label})", type=p99_scale, row=2, col=1)
    if p99_scale == "linear":
        fig.update_yaxes(rangemode="tozero", row=2, col=1)
    else:
        fig.update_yaxes(**log_ticks(unit.scale(usable["p99_us"])), row=2, col=1)
    return fig


def family_label(row: pd.Series, axis: Axis) -> str:
    """The configuration's label without ``axis``: ``prefork sync``, ``prefork thread w2``."""
    values = {name: row.get(name) for name in CONFIG_COLUMNS if name != "label"}
    values.pop(axis)
    return config_label(values)


def capacity_table(summary: pd.DataFrame, axis: Axis) -> pd.DataFrame:
    """Per family and value of ``axis``: the cell with the best throughput (usable cells)."""
    usable = summary[summary["status_kind"].isin(USABLE) & summary[axis].notna()].copy()
    if usable.empty:
        return usable.assign(family=pd.Series(dtype=str))
    usable["family"] = [family_label(r, axis) for _, r in usable.iterrows()]
    varied = usable.groupby("family")[axis].nunique()
    usable = usable[usable["family"].isin(varied[varied >= 2].index)]
    best = usable.sort_values("rps", ascending=False).drop_duplicates(["family", axis])
    return best.sort_values(["cell_index"]).sort_values(["family", axis], kind="stable")


def shared_load(loads_by_member: dict[object, set[float]]) -> float | None:
    """The highest load point every member of a family has a usable cell at (None: none).

    ``loads_by_member`` maps each value of the axis (1, 2, 4 workers) to its usable loads.
    """
    sets = list(loads_by_member.values())
    common = set.intersection(*sets) if sets else set()
    return max(common) if common else None


def same_load_table(summary: pd.DataFrame, axis: Axis, families: list[str]) -> pd.DataFrame:
    """Per family of ``families`` and value of ``axis``: the cell at the family's shared load.

    Families whose members share no load point are left out (their p99 line would have to
    mix loads again).
    """
    usable = summary[summary["status_kind"].isin(USABLE) & summary[axis].notna()].copy()
    if usable.empty:
        return usable.assign(family=pd.Series(dtype=str))
    usable["family"] = [family_label(r, axis) for _, r in usable.iterrows()]
    parts = []
    for family in families:
        rows = usable[usable["family"] == family]
        loads = {v: set(g["load"]) for v, g in rows.groupby(axis)}
        load = shared_load(loads)
        if load is not None:
            parts.append(rows[rows["load"] == load].drop_duplicates(axis).sort_values(axis))
    return pd.concat(parts) if parts else usable.iloc[:0]


def failed_configs(summary: pd.DataFrame, axis: Axis, families: list[str]) -> pd.DataFrame:
    """Configurations of ``families`` with no usable cell at any load point (one row each)."""
    rows = summary[summary[axis].notna()].copy()
    if rows.empty:
        return rows
    rows["family"] = [family_label(r, axis) for _, r in rows.iterrows()]
    rows = rows[rows["family"].isin(families)]
    usable = rows.groupby("config")["status_kind"].agg(lambda k: bool(k.isin(USABLE).any()))
    failed = rows[rows["config"].isin(usable[~usable].index)].drop_duplicates("config")
    return failed.assign(load_label="every load point")


def capacity_vs(summary: pd.DataFrame, axis: Axis, slo: Slo | None = None) -> go.Figure | None:
    """Best throughput (labelled with its load) and p99 at one shared load per family,
    against workers or threads; None if nothing varies."""
    table = capacity_table(summary, axis)
    if table.empty:
        return None
    fig = subplots(2, vertical_spacing=0.08)
    style(fig, title=f"Capacity vs {axis}: best throughput over the load points", height=600)
    families = list(dict.fromkeys(table["family"]))
    colors = colors_for(families)
    same = same_load_table(summary, axis, families)
    unit = latency_unit(same["p99_us"] if len(same) else table["p99_us"])
    for family in families:
        rows = table[table["family"] == family]
        color = colors[family]
        hover = [cell_hover(r, [("best at", str(r["load_label"]))]) for _, r in rows.iterrows()]
        common = series_trace(rows[axis].astype(float), rows, family, color, hover)
        common["mode"] = "lines+markers+text"
        fig.add_trace(
            go.Scatter(
                y=list(rows["rps"]),
                name=esc(family),
                text=[esc(str(v)) for v in rows["load_label"]],
                textposition="top center",
                textfont={"size": 10, "color": color},
                cliponaxis=False,
                **common,
            ),
            row=1,
            col=1,
        )
        at = same[same["family"] == family]
        if at.empty:
            continue
        load = esc(str(at["load_label"].iloc[0]))
        hover = [cell_hover(r, [("same load", load)]) for _, r in at.iterrows()]
        fig.add_trace(
            go.Scatter(
                y=unit.scale(at["p99_us"]),
                name=f"{esc(family)} at {load}",
                showlegend=False,
                **series_trace(at[axis].astype(float), at, family, color, hover),
            ),
            row=2,
            col=1,
        )
    add_slo_lines(fig, slo, unit, keys=("p99",), row=2, col=1)
    failed = failed_configs(summary, axis, families)
    ticks = sorted({int(v) for v in (*table[axis], *failed[axis])})
    log_x = use_log_axis(ticks, 4)
    mark_failed_at_x(fig, failed, xref="x", yref="y", log_x=log_x, x_column=axis)
    fig.update_xaxes(tickvals=ticks, type="log" if log_x else "linear")
    noun = "worker processes" if axis == "workers" else "threads per worker"
    fig.update_xaxes(title_text=f"{axis} ({noun})", row=2, col=1)
    fig.update_yaxes(title_text="best throughput (req/s)", rangemode="tozero", row=1, col=1)
    shared = sorted({str(v) for v in same["load_label"]}) if len(same) else []
    at = esc(shared[0]) if len(shared) == 1 else "one load per line"
    fig.update_yaxes(title_text=f"p99 at {at} ({unit.label})", rangemode="tozero", row=2, col=1)
    return fig
