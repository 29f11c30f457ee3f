"""WebSocket figures: messages/s, round-trip percentiles and connection set-up per load.

For WebSocket workloads a "request" is one echo round-trip: ``rps`` is messages/s and the
latency percentiles are round-trip times. Three rows share the connections axis, one line
per configuration (and message size, when the scenario varies it):

- messages/s, with repetitions' min–max as error bars;
- round-trip p50 (dotted) and p99 (solid);
- connect + handshake median, with connection errors in the hover: the cost of holding
  many connections shows up here first.

Returns None when the run has no WebSocket cells.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.figures.marks import (
    cell_hover,
    load_axis,
    mark_failed_at_x,
    rps_spread,
    series_trace,
)
from bench.dashboards.tables import is_websocket, ordered_series
from bench.dashboards.theme import colors_for, esc, latency_unit, style, subplots
from bench.runner.results.formatting import format_latency
from bench.runner.results.status import USABLE


def websocket_figure(summary: pd.DataFrame) -> go.Figure | None:
    """Messages/s, round-trip p50/p99 and connect time against connections (WS cells only)."""
    ws = summary[is_websocket(summary)]
    if ws.empty:
        return None
    fig = subplots(3)
    style(fig, title="WebSocket echo: messages/s and round-trip latency", height=700)
    usable = ws[ws["status_kind"].isin(USABLE)]
    unit = latency_unit(usable["p99_us"])
    connect_unit = latency_unit(usable["ws_connect_p50_us"])
    order = ordered_series(ws)
    colors = colors_for(order)
    for series in order:
        rows = usable[usable["series"] == series].sort_values("load")
        if rows.empty:
            continue
        color = colors[series]
        hover = [
            cell_hover(
                r,
                [
                    ("connect + handshake p50", format_latency(r["ws_connect_p50_us"])),
                    ("connect errors", f"{r['errors_connect']:.0f}"),
                ],
            ).replace("req/s", "msg/s")
            for _, r in rows.iterrows()
        ]
        common = series_trace(rows["load"], rows, series, color, hover)
        line = common.pop("line")  # each trace below sets its own dash
        spread = rps_spread(rows)
        fig.add_trace(
            go.Scatter(y=list(rows["rps"]), name=esc(series), line=line, error_y=spread, **common),
            row=1,
            col=1,
        )
        for key, dash in (("p99", "solid"), ("p50", "dot")):
            fig.add_trace(
                go.Scatter(
                    y=unit.scale(rows[f"{key}_us"]),
                    name=esc(f"{series} {key}"),
                    showlegend=False,
                    line={**line, "dash": dash},
                    **common,
                ),
                row=2,
                col=1,
            )
        fig.add_trace(
            go.Scatter(
                y=connect_unit.scale(rows["ws_connect_p50_us"]),
                name=esc(f"{series} connect"),
                showlegend=False,
                line=line,
                **common,
            ),
            row=3,
            col=1,
        )
    log_x = load_axis(fig, ws)
    mark_failed_at_x(fig, ws[~ws["status_kind"].isin(USABLE)], xref="x", yref="y", log_x=log_x)
    fig.update_xaxes(title_text="connections (each echoing messages)", row=3, col=1)
    fig.update_yaxes(title_text="messages/s", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(
        title_text=f"round-trip ({unit.label})<br>p99 solid, p50 dotted",
        rangemode="tozero",
        row=2,
        col=1,
    )
    fig.update_yaxes(
        title_text=f"connect p50 ({connect_unit.label})", rangemode="tozero", row=3, col=1
    )
    return fig
