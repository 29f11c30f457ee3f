"""Time series of a cell: req/s, errors/s and p99, one line per repetition.

A point is 1 s of the window, or 0.5 s / 0.2 s when the window is short (the engine's
``point_seconds``), so a 2 s window still draws ten points; rates divide by each point's
``span_s``.

A dropdown picks the cell; by default the busiest load point of the first configuration
is shown, where stalls and warm-up effects are most likely. The figure has one trace per
repetition slot and row; each dropdown entry carries its cell's series and swaps them in
(``restyle``), so a run with many cells does not become thousands of plotly traces. The warm-up (load applied
before the measured window, its samples discarded) is the shaded band left of t = 0:
a series that is still climbing at t = 0 means the warm-up was too short.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.theme import (
    WARMUP_FILL,
    Unit,
    add_menu,
    color_for,
    esc,
    latency_unit,
    no_data,
    style,
    subplots,
)
from bench.runner.results.status import USABLE

#: More cells than this get no time series in the dropdown (the file would grow large).
MAX_CELLS = 60


def default_cell(summary: pd.DataFrame, available: set[str]) -> str | None:
    """The cell shown first: the highest load of the first configuration that has data."""
    cells = summary[summary["cell_id"].isin(available)]
    if cells.empty:
        return None
    usable = cells[cells["status_kind"].isin(USABLE)]
    pool = usable if not usable.empty else cells
    first_config = pool.sort_values("cell_index").iloc[0]["config"]
    rows = pool[pool["config"] == first_config].sort_values("load")
    return str(rows.iloc[-1]["cell_id"])


#: The three rows: (meta key, column, hover text of the value).
ROWS: tuple[tuple[str, str, str], ...] = (
    ("rps", "requests", "%{y:,.0f} req/s"),
    ("errors", "errors", "%{y:,.3g} errors/s"),
    ("p99", "p99_us", "p99 %{y:.4g} "),
)


def cell_series(
    cell: pd.Series | object, timeseries: pd.DataFrame, slots: int, unit: Unit
) -> dict[str, list[object]]:
    """Per trace (repetition slot × row, slot-major): x, y, name, hovertemplate, visible.

    Slots beyond the cell's repetitions are empty and hidden. This is both the initial
    data of the figure (for the cell shown first) and the ``restyle`` payload of the menu.
    """
    out: dict[str, list[object]] = {
        "x": [],
        "y": [],
        "name": [],
        "hovertemplate": [],
        "visible": [],
    }
    series = timeseries[timeseries["cell_id"] == cell.cell_id]  # type: ignore[attr-defined]
    groups = [g.sort_values("t_s") for _, g in series.groupby("repetition", sort=True)]
    reps = sorted(int(r) for r in series["repetition"].unique())
    for slot in range(slots):
        points = groups[slot] if slot < len(groups) else None
        name = f"rep {reps[slot]}" if points is not None else f"rep {slot}"
        head = f"<b>{esc(cell.config)}</b> · {esc(cell.load_label)} · {name}<br>t=%{{x:g}} s: "  # type: ignore[attr-defined]
        for key, column, value in ROWS:
            if points is None:
                x: list[float] = []
                y: list[float | None] = []
            elif key == "p99":
                x, y = list(points["t_s"]), unit.scale(points[column])
            else:
                x, y = list(points["t_s"]), list(points[column] / _spans(points))
            out["x"].append(x)
            out["y"].append(y)
            out["name"].append(name)
            suffix = unit.label if key == "p99" else ""
            out["hovertemplate"].append(head + value + suffix + "<extra></extra>")
            out["visible"].append(points is not None)
    return out


def cell_timeseries(summary: pd.DataFrame, timeseries: pd.DataFrame) -> go.Figure:
    """req/s, errors/s and p99 per second, one line per repetition; a menu picks the cell.

    The figure holds one trace per repetition slot and row (not per cell), and each menu
    entry carries its cell's data: the file grows with the data, not with plotly objects.
    """
    fig = subplots(3)
    style(fig, title="Time series of a cell", height=640, legend_title="repetition")
    available = set(timeseries["cell_id"]) if not timeseries.empty else set()
    chosen = default_cell(summary, available)
    if chosen is None:
        return no_data(fig, "No per-second time series in this run.")
    cells = summary[summary["cell_id"].isin(available)].sort_values(["cell_index"]).head(MAX_CELLS)
    unit = latency_unit(timeseries["p99_us"])
    slots = int(timeseries.groupby("cell_id")["repetition"].nunique().max())
    payloads = {
        cell.cell_id: cell_series(cell, timeseries, slots, unit) for cell in cells.itertuples()
    }
    first = payloads[chosen]
    for slot in range(slots):
        color = color_for(slot)
        for row, (key, _, _) in enumerate(ROWS, start=1):
            i = slot * len(ROWS) + row - 1
            fig.add_trace(
                go.Scatter(
                    x=first["x"][i],
                    y=first["y"][i],
                    name=first["name"][i],
                    hovertemplate=first["hovertemplate"][i],
                    visible=first["visible"][i],
                    mode="lines+markers",
                    line={"color": color, "width": 1.8},
                    marker={"size": 4},
                    legendgroup=f"slot{slot}",
                    showlegend=row == 1,
                    connectgaps=False,
                    meta={"slot": slot, "row": key},
                ),
                row=row,
                col=1,
            )
    warmup = _warmup(summary, timeseries)
    if warmup > 0:
        for row in (1, 2, 3):
            fig.add_vrect(
                x0=-warmup,
                x1=0,
                fillcolor=WARMUP_FILL,
                line_width=0,
                layer="below",
                row=row,
                col=1,
                name="warmup",
            )
        fig.add_annotation(
            x=-warmup / 2,
            y=1.0,
            xref="x",
            yref="y domain",
            text="warm-up<br>(discarded)",
            showarrow=False,
            font={"size": 11},
            yanchor="top",
        )
    fig.update_xaxes(title_text="time in the measured window (s)", row=3, col=1)
    fig.update_xaxes(range=time_range(timeseries, warmup))
    fig.update_yaxes(title_text="req/s", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="errors/s", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(title_text=f"p99 ({unit.label})", rangemode="tozero", row=3, col=1)
    if len(cells) > 1:
        add_menu(fig, _cell_menu(cells, payloads, chosen))
    return fig


#: Share of the time axis left blank before the first second shown, so the first time
#: tick (at the warm-up's start) does not sit on the y axis's "0".
TIME_PAD = 0.04


def time_range(timeseries: pd.DataFrame, warmup: float) -> list[float]:
    """The time axis: from the warm-up's start (with ``TIME_PAD`` before it) to the end of
    the longest series."""
    ends = timeseries["t_s"] + pd.to_numeric(timeseries.get("span_s"), errors="coerce").fillna(0)
    end = float(ends.max()) if len(ends) else 1.0
    start = -warmup
    return [start - TIME_PAD * (end - start), end]


def _spans(points: pd.DataFrame) -> pd.Series:
    """Each point's length in seconds: ``span_s`` where recorded, else the series' step."""
    diffs = points["t_s"].diff().dropna()
    step = float(diffs.median()) if len(diffs) else 1.0
    step = step if step > 0 and not math.isnan(step) else 1.0
    if "span_s" not in points:
        return pd.Series(step, index=points.index)
    spans = pd.to_numeric(points["span_s"], errors="coerce")
    return spans.where(spans > 0, step).fillna(step)


def _warmup(summary: pd.DataFrame, timeseries: pd.DataFrame) -> float:
    """The warm-up to shade: the scenario's, or the recorded seconds before t = 0."""
    configured = pd.to_numeric(summary["warmup_s"], errors="coerce").max()
    recorded = -float(timeseries["t_s"].min()) if len(timeseries) else 0.0
    values = [v for v in (configured, recorded) if v is not None and not math.isnan(v)]
    return max([0.0, *values])


def _cell_menu(
    cells: pd.DataFrame, payloads: dict[str, dict[str, list[object]]], chosen: str
) -> dict[str, object]:
    """A dropdown with one entry per cell; each entry restyles the traces with its data."""
    ids = list(cells["cell_id"])
    buttons = []
    for cell in cells.itertuples():
        label = f"{cell.config} · {cell.load_label}"
        if cell.status_kind != "ok":
            label += f" ({cell.status_kind})"
        buttons.append({"label": esc(label), "method": "restyle", "args": [payloads[cell.cell_id]]})
    return {"type": "dropdown", "active": ids.index(chosen), "buttons": buttons}
