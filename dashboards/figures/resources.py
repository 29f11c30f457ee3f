"""Server resources per configuration: CPU busy, CPU per request, and peak memory.

Three rows share the load-point axis, one line per configuration:

- CPU busy: the server's process tree CPU time over the window, in cores (1.0 = one
  core fully used); a line flat at the number of pinned CPUs means CPU-bound;
- CPU per request (µs): the efficiency of the serving stack, comparable across servers;
- peak RSS (MiB): resident memory of the whole process tree (master + workers).

Failed cells are ✕ at their load point.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.figures.marks import cell_hover, load_axis, mark_failed_at_x, series_trace
from bench.dashboards.tables import load_axis_title, ordered_series
from bench.dashboards.theme import colors_for, esc, no_data, style, subplots
from bench.runner.results.formatting import format_bytes
from bench.runner.results.status import USABLE

MIB = 1024.0 * 1024.0


def cores_busy(summary: pd.DataFrame) -> pd.Series:
    """Server CPU seconds per second of window (cores busy); NaN where unknown."""
    cpu = pd.to_numeric(summary["server_cpu_s"], errors="coerce")
    window = pd.to_numeric(summary["duration_s"], errors="coerce")
    return cpu / window.where(window > 0)


def server_resources(summary: pd.DataFrame, server_cpus: int | None = None) -> go.Figure:
    """CPU busy (cores), CPU per request (µs) and peak RSS (MiB) against the load point."""
    fig = subplots(3)
    style(fig, title="Server CPU and memory per configuration", height=700)
    usable = summary[summary["status_kind"].isin(USABLE)]
    has_data = usable[["server_cpu_s", "server_rss_peak_bytes"]].notna().any(axis=None)
    if usable.empty or not has_data:
        return no_data(fig, "No server CPU or memory samples in this run.")
    colors = colors_for(ordered_series(summary))
    busy = cores_busy(usable)
    for config in ordered_series(usable):
        mask = usable["series"] == config
        rows = usable[mask].assign(_busy=busy[mask]).sort_values("load")
        color = colors[config]
        hover = [
            cell_hover(
                r,
                [
                    ("server CPU", f"{r['_busy']:.2f} cores"),
                    ("CPU per request", f"{r['cpu_us_per_request']:.1f} µs"),
                    ("peak RSS", format_bytes(r["server_rss_peak_bytes"])),
                ],
            )
            for _, r in rows.iterrows()
        ]
        common = {**series_trace(rows["load"], rows, config, color, hover), "name": esc(config)}
        series = (
            list(rows["_busy"]),
            list(rows["cpu_us_per_request"]),
            list(rows["server_rss_peak_bytes"] / MIB),
        )
        for index, values in enumerate(series, start=1):
            fig.add_trace(go.Scatter(y=values, showlegend=index == 1, **common), row=index, col=1)
    if server_cpus:
        fig.add_hline(
            y=server_cpus,
            line={"dash": "dot", "color": "#555", "width": 1},
            annotation={"text": f"server CPUs: {server_cpus}", "font": {"size": 11}},
            annotation_position="top left",
            row=1,
            col=1,
        )
    log_x = load_axis(fig, summary)
    failed = summary[~summary["status_kind"].isin(USABLE)]
    mark_failed_at_x(fig, failed, xref="x", yref="y", log_x=log_x)
    mode = "open" if (summary["mode"] == "open").any() else "closed"
    fig.update_xaxes(title_text=load_axis_title(mode), row=3, col=1)
    fig.update_yaxes(title_text="CPU busy (cores)", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="CPU per request (µs)", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(title_text="peak RSS (MiB)", rangemode="tozero", row=3, col=1)
    return fig
