"""Latency figures: latency vs throughput (the "hockey stick") and the percentile spectrum.

Latency vs throughput: each server configuration is a line through its load points,
x = achieved throughput (log when the throughputs span 10× or more), y = latency (p99
solid, p50 dotted; a toggle switches the latency axis between linear and log). While a server has spare
capacity, more load buys more throughput at flat latency; at saturation the line turns
up (the blade of the stick): more load only adds queueing. ``saturation_index`` finds the
first load point reaching 95 % of the configuration's best throughput; it is marked ★.

Percentile spectrum: for each cell, the merged histogram of its repetitions drawn
HDR-style: x = "1 in N" (log: 10 = p90, 1000 = p99.9), y = latency on a log axis (a
40 µs configuration and a 400 ms one both keep their shape). A dropdown picks the load
point; the SLO's limits are drawn at their percentiles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.figures.marks import (
    add_slo_lines,
    cell_hover,
    failed_legend,
    latency_axis_type,
    marker_style,
    use_log_axis,
)
from bench.dashboards.tables import ordered_series, rate_unit, spectrum
from bench.dashboards.theme import (
    SATURATION_COLOR,
    SLO_COLOR,
    add_menu,
    colors_for,
    esc,
    figure,
    latency_unit,
    log_ticks,
    no_data,
    style,
)
from bench.runner.results.formatting import format_latency, format_rate
from bench.runner.results.histogram import Histogram
from bench.runner.results.slo import KEY_NAMES, Slo
from bench.runner.results.status import USABLE

#: A load point reaching this share of the best throughput counts as saturated.
SATURATION_SHARE = 0.95
#: ``1 in N`` tick positions of the spectrum and their names.
SPECTRUM_TICKS: tuple[tuple[float, str], ...] = (
    (1, "min"),
    (2, "p50"),
    (10, "p90"),
    (100, "p99"),
    (1_000, "p99.9"),
    (10_000, "p99.99"),
    (100_000, "p99.999"),
    (1_000_000, "p99.9999"),
)
_SLO_PERCENT = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}


def saturation_index(rps: Sequence[float], share: float = SATURATION_SHARE) -> int | None:
    """Index of the first load point whose throughput reaches ``share`` of the best.

    ``rps`` is in increasing load order. None when there are fewer than 3 points, or when
    only the last point gets there (throughput still growing: saturation not reached).
    """
    values = [v for v in rps if v is not None and not math.isnan(v)]
    if len(values) < 3 or len(values) != len(rps):
        return None
    best = max(values)
    if best <= 0:
        return None
    first = next(i for i, v in enumerate(values) if v >= share * best)
    return None if first == len(values) - 1 else first


def latency_vs_throughput(summary: pd.DataFrame, slo: Slo | None = None) -> go.Figure:
    """The hockey stick: p50 and p99 against achieved throughput, one line per config."""
    fig = figure()
    style(fig, title="Latency vs throughput", legend_title="configuration")
    usable = summary[summary["status_kind"].isin(USABLE)]
    if usable.empty:
        return no_data(fig, "No cell produced numbers: see the failed cells below.")
    values = [*usable["p99_us"], *usable["p50_us"]]
    if slo is not None:
        values += [slo.latency_us[k] for k in ("p50", "p99") if k in slo.latency_us]
    unit = latency_unit(values)
    colors = colors_for(ordered_series(summary))
    sat_x: list[float] = []
    sat_y: list[float | None] = []
    sat_text: list[str] = []
    for config in ordered_series(usable):
        rows = usable[usable["series"] == config].sort_values("load")
        color = colors[config]
        hover = [cell_hover(r) for _, r in rows.iterrows()]
        for key, dash, width in (("p99", "solid", 2.5), ("p50", "dot", 1.5)):
            fig.add_trace(
                go.Scatter(
                    x=list(rows["rps"]),
                    y=unit.scale(rows[f"{key}_us"]),
                    mode="lines+markers",
                    name=esc(config),
                    showlegend=key == "p99",
                    legendgroup=esc(config),
                    line={"color": color, "dash": dash, "width": width},
                    marker=marker_style(list(rows["status_kind"]), color),
                    hovertext=hover,
                    hovertemplate="%{hovertext}<extra></extra>",
                    meta={"config": config, "percentile": key},
                )
            )
        index = saturation_index(list(rows["rps"]))
        if index is not None:
            row = rows.iloc[index]
            sat_x.append(float(row["rps"]))
            sat_y.append(unit.one(row["p99_us"]))
            sat_text.append(
                esc(f"{config}: saturates at {format_rate(row['rps'])} ({row['load_label']})")
            )
    if sat_x:
        fig.add_trace(
            go.Scatter(
                x=sat_x,
                y=sat_y,
                mode="markers",
                name="saturation point",
                marker={"symbol": "star", "size": 16, "color": SATURATION_COLOR},
                hovertext=sat_text,
                hovertemplate="%{hovertext}<extra></extra>",
                meta={"role": "saturation"},
            )
        )
    for key, dash in (("p99", "solid"), ("p50", "dot")):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                name=key,
                line={"color": "#555", "dash": dash, "width": 2},
                legendgroup="key",
                meta={"role": "key"},
            )
        )
    failed_legend(fig, summary)
    scale = latency_axis_type([*usable["p99_us"], *usable["p50_us"]])
    add_slo_lines(fig, slo, unit, keys=("p50", "p99"), log_y=scale == "log")
    x_scale = throughput_axis_type(list(usable["rps"]))
    fig.update_xaxes(title_text=f"achieved throughput ({rate_unit(summary)})", type=x_scale)
    if x_scale == "linear":
        fig.update_xaxes(rangemode="tozero")
    else:
        fig.update_xaxes(**log_ticks(usable["rps"]))
    shown = unit.scale([*usable["p99_us"], *usable["p50_us"]])
    fig.update_yaxes(title_text=f"latency ({unit.label})", type=scale)
    if scale == "linear":
        fig.update_yaxes(rangemode="tozero")
    else:
        fig.update_yaxes(**log_ticks(shown))
    return add_menu(fig, _scale_buttons(scale, log_ticks(shown).get("dtick")))


#: Throughputs spanning this many times or more get a log x axis.
THROUGHPUT_LOG_RATIO = 10.0


def throughput_axis_type(rps: Sequence[float]) -> str:
    """``log`` when the throughputs shown span ``THROUGHPUT_LOG_RATIO``× or more, else
    ``linear``: a 20 req/s sync worker and a 5,000 req/s event loop both stay readable."""
    return "log" if use_log_axis(list(rps), THROUGHPUT_LOG_RATIO) else "linear"


def _scale_buttons(active: str, log_dtick: object = None) -> dict[str, object]:
    """Buttons switching the latency axis between linear and log (with ``log_dtick``, the
    log axis's ticks from ``log_ticks``; the linear one gets plotly's own)."""
    return {
        "type": "buttons",
        "direction": "right",
        "showactive": True,
        "active": 0 if active == "linear" else 1,
        "buttons": [
            {
                "label": "linear",
                "method": "relayout",
                "args": [{"yaxis.type": "linear", "yaxis.dtick": None}],
            },
            {
                "label": "log",
                "method": "relayout",
                "args": [{"yaxis.type": "log", "yaxis.dtick": log_dtick}],
            },
        ],
    }


def percentile_spectrum(
    summary: pd.DataFrame,
    histograms: Mapping[str, Histogram],
    slo: Slo | None = None,
) -> go.Figure:
    """Latency by percentile ("1 in N", log) per cell, repetitions merged; dropdown by load."""
    fig = figure()
    style(fig, title="Percentile spectrum (repetitions merged)", legend_title="configuration")
    cells = summary[summary["cell_id"].isin(list(histograms)) & summary["status_kind"].isin(USABLE)]
    cells = cells[[histograms[c].total > 0 for c in cells["cell_id"]]]
    if cells.empty:
        return no_data(fig, "No latency histograms in this run.")
    curves = {c: spectrum(histograms[c]) for c in cells["cell_id"]}
    values = [v for _, ys in curves.values() for v in ys]
    unit = latency_unit(values)
    colors = colors_for(ordered_series(summary))
    loads = sorted(set(cells["load"]))
    default = loads[-1]
    labels: dict[float, str] = {}
    trace_loads: list[float | None] = []
    for row in cells.sort_values(["load", "cell_index"]).itertuples():
        xs, ys = curves[row.cell_id]
        labels[row.load] = row.load_label
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=unit.scale(ys),
                mode="lines",
                name=esc(row.series),
                line={"color": colors[row.series], "width": 2, "shape": "hv"},
                visible=row.load == default,
                customdata=[[100.0 * (1 - 1 / x)] for x in xs],
                hovertemplate=(
                    f"<b>{esc(row.config)}</b> · {esc(row.load_label)}<br>"
                    "p%{customdata[0]:.4g}: %{y:.4g} " + unit.label + "<br>"
                    "(1 in %{x:,.0f} requests is slower)"
                    f"<br>{histograms[row.cell_id].total:,} requests<extra></extra>"
                ),
                meta={"cell_id": row.cell_id, "load": row.load},
            )
        )
        trace_loads.append(row.load)
    top = max(x for xs, _ in curves.values() for x in xs)
    if slo is not None:
        for key, limit_us in slo.latency_us.items():
            start = 1.0 / (1.0 - _SLO_PERCENT[key] / 100.0)
            fig.add_trace(
                go.Scatter(
                    x=[start, max(top, start)],
                    y=[unit.one(limit_us)] * 2,
                    mode="lines+markers",
                    name=esc(f"SLO {KEY_NAMES[key]} ≤ {format_latency(limit_us)}"),
                    line={"color": SLO_COLOR, "dash": "dash", "width": 1.5},
                    marker={
                        "symbol": "line-ns",
                        "size": [14, 0],
                        "line": {"width": 2, "color": SLO_COLOR},
                    },
                    hoverinfo="name",
                    meta={"role": "slo"},
                )
            )
            trace_loads.append(None)
    before = len(fig.data)
    failed_legend(fig, summary)
    trace_loads.extend([None] * (len(fig.data) - before))
    ticks = [(v, t) for v, t in SPECTRUM_TICKS if v <= top * 1.5]
    fig.update_xaxes(
        type="log",
        title_text="percentile (log scale: 1 in N requests is slower)",
        tickvals=[v for v, _ in ticks],
        ticktext=[t for _, t in ticks],
    )
    fig.update_yaxes(
        title_text=f"latency ({unit.label})", type="log", **log_ticks(unit.scale(values))
    )
    if len(loads) > 1:
        add_menu(fig, _load_menu(loads, labels, trace_loads, default))
    return fig


def _load_menu(
    loads: Sequence[float],
    labels: Mapping[float, str],
    trace_loads: Sequence[float | None],
    default: float,
) -> dict[str, object]:
    """A dropdown showing the traces of one load point (SLO traces always visible)."""
    buttons = [
        {
            "label": esc(labels[load]),
            "method": "restyle",
            "args": [{"visible": [t is None or t == load for t in trace_loads]}],
        }
        for load in loads
    ]
    return {"type": "dropdown", "active": list(loads).index(default), "buttons": buttons}
