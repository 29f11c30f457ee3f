"""Lifecycle and fault events in the report: marks on the time series, the event-aligned
view, and the table of what each event cost (pure: DataFrames in, plotly Figures out).

- ``mark_events`` draws each scenario event on the per-second time series: a dashed line
  where it was taken (the median time over cells) and a shaded band over its window
  (from the earliest start to the latest end over the cells: the per-cell windows are in
  the table);
- ``event_aligned`` puts every configuration's per-second p99 and errors on one time
  axis that starts at the action (t = 0), so the configurations compare directly;
- ``event_cost_table`` is ``bench.runner.results.event_table.event_ranking`` as a table.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.theme import color_for, esc, figure, latency_unit, no_data, style, subplots

EVENT_COLOR = "#6A1B9A"
EVENT_FILL = "rgba(106, 27, 154, 0.12)"
#: Seconds shown before and after the action in the event-aligned view.
BEFORE_S, AFTER_S = 3.0, 5.0


def _done(events: pd.DataFrame) -> pd.DataFrame:
    return events[events["status"] == "done"] if len(events) else events


def mark_events(fig: go.Figure, events: pd.DataFrame, rows: int = 3) -> go.Figure:
    """Mark every event taken on the per-second time series figure (in place)."""
    done = _done(events)
    if not len(done):
        return fig
    for (_index, action), group in done.groupby(["event_index", "action"], sort=True):
        at = float(pd.to_numeric(group["fired_at_s"], errors="coerce").median())
        start = pd.to_numeric(group["window_from_s"], errors="coerce").min()
        end = pd.to_numeric(group["window_to_s"], errors="coerce").max()
        for row in range(1, rows + 1):
            if not (math.isnan(start) or math.isnan(end)):
                fig.add_vrect(
                    x0=start, x1=end, fillcolor=EVENT_FILL, line_width=0, layer="below",
                    row=row, col=1, exclude_empty_subplots=False,
                )  # fmt: skip
            fig.add_vline(
                x=at, line={"color": EVENT_COLOR, "dash": "dash", "width": 1.4}, row=row, col=1,
                exclude_empty_subplots=False,
            )  # fmt: skip
        fig.add_annotation(
            x=at, y=1.0, xref="x", yref="y domain", text=esc(action), showarrow=False,
            font={"size": 11, "color": EVENT_COLOR}, yanchor="bottom", xanchor="left",
        )  # fmt: skip
    return fig


def event_aligned(events: pd.DataFrame, timeseries: pd.DataFrame, cells: pd.DataFrame) -> go.Figure:
    """Per-second p99 and errors/s around each event, t = 0 at the action, one line per
    configuration (its first repetition) and a menu entry per event."""
    fig = subplots(2)
    style(fig, title="Around each event (t = 0: the action)", height=560, legend_title="")
    done = _done(events)
    if not len(done) or not len(timeseries):
        return no_data(fig, "No event was taken in this run.")
    labels = cells.drop_duplicates("cell_id").set_index("cell_id")["label"]
    unit = latency_unit(timeseries["p99_us"])
    keys = sorted(
        {(int(i), str(a)) for i, a in zip(done["event_index"], done["action"], strict=True)}
    )
    first_rep = done.sort_values("repetition").drop_duplicates(["cell_id", "event_index"])
    traces: list[tuple[int, go.Scatter, int]] = []
    for slot, (index, action) in enumerate(keys):
        rows = first_rep[first_rep["event_index"] == index]
        for n, row in enumerate(rows.itertuples()):
            series = timeseries[
                (timeseries["cell_id"] == row.cell_id)
                & (timeseries["repetition"] == row.repetition)
            ].sort_values("t_s")
            if "drain" in series:
                series = series[~series["drain"].fillna(False).astype(bool)]
            x = series["t_s"] - float(row.fired_at_s)
            keep = (x >= -BEFORE_S - 1) & (x <= AFTER_S)
            label = esc(labels.get(row.cell_id, row.cell_id))
            color = color_for(n)
            hover = f"<b>{label}</b> · {esc(action)}<br>t=%{{x:.1f}} s: "
            p99 = go.Scatter(
                x=list(x[keep]), y=unit.scale(series["p99_us"][keep]), name=label,
                legendgroup=label, line={"color": color}, mode="lines+markers",
                hovertemplate=hover + f"p99 %{{y:.4g}} {unit.label}<extra></extra>",
                visible=slot == 0,
            )  # fmt: skip
            errs = go.Scatter(
                x=list(x[keep]), y=list(series["errors"][keep]), name=label, legendgroup=label,
                line={"color": color}, mode="lines+markers", showlegend=False,
                hovertemplate=hover + "%{y:,.0f} errors<extra></extra>", visible=slot == 0,
            )  # fmt: skip
            traces += [(slot, p99, 1), (slot, errs, 2)]
    for _, trace, row_number in traces:
        fig.add_trace(trace, row=row_number, col=1)
    for row_number in (1, 2):
        fig.add_vline(x=0, line={"color": EVENT_COLOR, "dash": "dash"}, row=row_number, col=1)
    fig.update_xaxes(title_text="seconds from the action", row=2, col=1)
    fig.update_yaxes(title_text=f"p99 ({unit.label})", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="errors", rangemode="tozero", row=2, col=1)
    if len(keys) > 1:
        buttons = []
        for slot, (index, action) in enumerate(keys):
            visible = [s == slot for s, _, _ in traces]
            buttons.append(
                {"label": esc(f"{action} (event {index})"), "method": "restyle",
                 "args": [{"visible": visible}]}
            )  # fmt: skip
        fig.update_layout(
            updatemenus=[{"type": "dropdown", "x": 1.0, "xanchor": "right", "y": 1.0,
                          "yanchor": "bottom", "buttons": buttons}]
        )  # fmt: skip
    return fig


#: The ranking's columns as the table shows them.
HEADERS: dict[str, str] = {
    "label": "configuration",
    "action": "action",
    "runs": "runs",
    "status": "status",
    "errors": "errors",
    "connect": "of which connect",
    "lost": "lost",
    "unsent": "unsent",
    "recovery_s": "recovery (s)",
    "p99_ms": "p99 (ms)",
    "p999_ms": "p99.9 (ms)",
    "max_ms": "max (ms)",
    "steady_p99_ms": "steady p99 (ms)",
    "workers_back_s": "workers back (s)",
}


def _cell(value: object, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "never" if column == "recovery_s" else "–"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return esc(value)


def event_cost_table(ranking: pd.DataFrame) -> go.Figure:
    """What each event cost per configuration (errors, lost, recovery, latencies), cheapest
    first within each action."""
    fig = figure()
    style(fig, title="What the events cost", height=max(260, 90 + 30 * len(ranking)))
    if not len(ranking):
        return no_data(fig, "No events in this run.")
    columns = [c for c in HEADERS if c in ranking.columns]
    fig.add_trace(
        go.Table(
            header={"values": [HEADERS[c] for c in columns], "align": "left"},
            cells={
                "values": [[_cell(v, c) for v in ranking[c]] for c in columns],
                "align": "left",
            },
        )
    )
    fig.update_layout(margin={"l": 8, "r": 8, "t": 60, "b": 8})
    return fig
