"""Marks shared by the figures: cell status markers, hover text, failed cells, SLO lines.

A failed cell has no numbers, so it cannot be a point on a value axis; where the x axis
is the load point, it is drawn as a red ✕ just above the plot at its load point (hover
shows the reason); elsewhere it gets a legend entry of its own, "✕ failed: …", whose
trace holds no data (``failed_legend``). An engine-bound cell is drawn as an open orange
marker: its throughput is a lower bound on the server's. An overloaded cell (an open-loop
server that fell behind the asked rate) is a purple triangle: its throughput is what it
served at its limit, and its latency grew through the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.theme import SLO_COLOR, STATUS_STYLE, Unit, esc
from bench.runner.results.formatting import format_latency, format_rate
from bench.runner.results.little import little_suspect
from bench.runner.results.slo import KEY_NAMES, Slo

#: Marker size of an ordinary point; engine-bound points are drawn larger (open ring).
MARKER_SIZE = 8


def marker_style(kinds: Sequence[str], color: str) -> dict[str, object]:
    """A plotly ``marker`` dict: filled dots for ok cells, open orange rings for engine-bound,
    purple-edged triangles for overloaded cells."""
    flagged = ("engine-bound", "overloaded")
    symbols = [STATUS_STYLE.get(k, STATUS_STYLE["failed"])[1] for k in kinds]
    line_colors = [STATUS_STYLE[k][0] if k in flagged else color for k in kinds]
    sizes = [MARKER_SIZE + 5 if k in flagged else MARKER_SIZE for k in kinds]
    return {
        "color": color,
        "symbol": symbols,
        "size": sizes,
        "line": {"color": line_colors, "width": 2},
    }


def series_trace(
    x: Sequence[float], rows: pd.DataFrame, label: str, color: str, hover: Sequence[str]
) -> dict[str, object]:
    """The keyword arguments every per-configuration line shares: x, markers by status,
    legend group, hover (add ``y``, ``name`` and the rest per trace)."""
    return {
        "x": list(x),
        "mode": "lines+markers",
        "legendgroup": esc(label),
        "line": {"color": color, "width": 2},
        "marker": marker_style(list(rows["status_kind"]), color),
        "hovertext": list(hover),
        "hovertemplate": "%{hovertext}<extra></extra>",
    }


def rps_spread(rows: pd.DataFrame) -> dict[str, object]:
    """Error bars from the slowest to the fastest repetition's throughput."""
    return {
        "type": "data",
        "symmetric": False,
        "array": list(rows["rps_max"] - rows["rps"]),
        "arrayminus": list(rows["rps"] - rows["rps_min"]),
        "thickness": 1,
        "width": 3,
    }


def cell_hover(row: pd.Series | object, extra: Sequence[tuple[str, str]] = ()) -> str:
    """Escaped hover text for one summary row (configuration, load, status, key numbers)."""
    get = row.__getitem__ if isinstance(row, pd.Series) else lambda k: getattr(row, k)
    lines = [
        f"<b>{esc(get('config'))}</b>",
        f"load: {esc(get('load_label'))}",
        f"throughput: {format_rate(get('rps'))}"
        + (
            f" (reps {format_rate(get('rps_min'), '')}– {format_rate(get('rps_max'), '')})"
            if _num(get("reps_usable")) > 1
            else ""
        ),
        f"p50 {format_latency(get('p50_us'), _get(get, 'latency_resolution_us'))}"
        f" · p99 {format_latency(get('p99_us'), _get(get, 'latency_resolution_us'))}"
        f" · max {format_latency(get('latency_max_us'))}",
    ]
    if get("mode") == "open" and not math.isnan(_num(get("achieved_rate"))):
        share = _num(get("target_rate_sent"))
        lines.append(
            f"asked {format_rate(get('target_rate'))}, sent {format_rate(get('achieved_rate'))}"
            + ("" if math.isnan(share) or share >= 0.95 else " ⚠ target rate not kept")
        )
        served = _num(_get(get, "served_share"))
        if not math.isnan(served):
            lines.append(f"served {served:.0%} of the arrivals due")
        if not math.isnan(_num(get("schedule_lag_p99_us"))):
            lines.append(f"send lateness p99: {format_latency(get('schedule_lag_p99_us'))}")
    error_rate = _num(get("error_rate"))
    if error_rate > 0:
        lines.append(f"errors: {error_rate * 100:.3g}%")
    lines.extend(f"{esc(k)}: {esc(v)}" for k, v in extra)
    if get("status_kind") != "ok" or "failed" in str(get("status_text")):
        lines.append(f"status: {esc(get('status_text'))}")
    little = _num(get("little_ratio"))
    if get("mode") == "closed" and little_suspect(little):
        lines.append(f"⚠ Little's law off: rps × (mean + reconnect) / connections = {little:.2f}")
    reconnects = _num(_get(get, "connects_per_request"))
    if get("mode") == "closed" and not math.isnan(reconnects) and reconnects >= 0.5:
        lines.append(
            f"reconnects per request: {reconnects:.2f} (connect mean "
            f"{format_latency(_get(get, 'connect_mean_us'))}, not in the latency)"
        )
    lines.append(f"repetitions: {int(_num(get('reps_usable')) or 0)} of {int(_num(get('reps')))}")
    return "<br>".join(lines)


def _get(get: object, key: str) -> object:
    """``get(key)``, or None for a column the row does not have (older run folders)."""
    try:
        return get(key)  # type: ignore[operator]
    except (KeyError, AttributeError):
        return None


def _num(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def mark_failed_at_x(
    fig: go.Figure,
    failed: pd.DataFrame,
    *,
    xref: str = "x",
    yref: str = "y",
    log_x: bool = False,
    x_column: str = "load",
) -> int:
    """Draw a red ✕ just above a plot at each failed cell's load point; return the count.

    The hover text names the configuration, the load and the reason.
    """
    color = STATUS_STYLE["failed"][0]
    drawn = 0
    for row in failed.itertuples():
        x = float(getattr(row, x_column))
        if math.isnan(x) or (log_x and x <= 0):
            continue
        fig.add_annotation(
            x=math.log10(x) if log_x else x,
            y=1.0,
            yanchor="bottom",
            xref=xref,
            yref=f"{yref} domain",
            text="✕",
            showarrow=False,
            font={"color": color, "size": 18},
            hovertext=esc(f"{row.config} · {row.load_label} — {row.status_text}"),
            name="failed",
        )
        drawn += 1
    return drawn


def axis_refs(fig: go.Figure, row: int | None, col: int | None) -> tuple[str, str]:
    """The (xref, yref) names, ``("x2", "y2")``, of a subplot (``("x", "y")`` without one)."""
    if row is None:
        return "x", "y"
    subplot = fig.get_subplot(row, col or 1)
    return (
        subplot.xaxis.plotly_name.replace("axis", ""),
        subplot.yaxis.plotly_name.replace("axis", ""),
    )


def add_slo_lines(
    fig: go.Figure,
    slo: Slo | None,
    unit: Unit,
    *,
    keys: Sequence[str] = ("p50", "p90", "p99", "p999"),
    row: int | None = None,
    col: int | None = None,
    log_y: bool = False,
) -> int:
    """Horizontal dashed lines at the SLO's latency limits (those in ``keys``); return count.

    plotly places shapes in data units but annotations in log10 units on a log axis, so
    ``log_y`` must say which axis type the label goes on.
    """
    if slo is None:
        return 0
    xref, yref = axis_refs(fig, row, col)
    drawn = 0
    for key, limit_us in slo.latency_us.items():
        if key not in keys:
            continue
        y = unit.one(limit_us)
        fig.add_shape(
            type="line",
            xref=f"{xref} domain",
            yref=yref,
            x0=0,
            x1=1,
            y0=y,
            y1=y,
            line={"color": SLO_COLOR, "dash": "dash", "width": 1.5},
            name=f"slo-{key}",
        )
        fig.add_annotation(
            xref=f"{xref} domain",
            yref=yref,
            x=0.005,
            y=math.log10(y) if log_y else y,
            xanchor="left",
            yanchor="bottom",
            text=esc(f"SLO {KEY_NAMES[key]} ≤ {format_latency(limit_us)}"),
            showarrow=False,
            font={"color": SLO_COLOR, "size": 12},
            name=f"slo-{key}",
        )
        drawn += 1
    return drawn


def use_log_axis(values: Sequence[float], ratio: float = 8.0) -> bool:
    """A log axis pays off when the positive values span more than ``ratio``×."""
    finite = [v for v in values if v is not None and not math.isnan(v) and v > 0]
    return len(finite) >= 2 and max(finite) / min(finite) >= ratio


#: At most this many failed cells get a legend entry each; the rest share one.
FAILED_LEGEND_LIMIT = 6


def failed_legend(fig: go.Figure, summary: pd.DataFrame) -> int:
    """A legend entry (a trace without data) per failed or skipped cell; return the count."""
    failed = summary[summary["status_kind"].isin(["failed", "skipped"])]
    color, symbol = STATUS_STYLE["failed"]
    rows = list(failed.itertuples())
    for index, row in enumerate(rows):
        if index == FAILED_LEGEND_LIMIT:
            kinds = {r.status_kind for r in rows[index:]}
            noun = "skipped" if kinds == {"skipped"} else "failed" if kinds == {"failed"} else ""
            name = f"✕ {len(rows) - index} more {noun + ' ' if noun else ''}cells (see the header)"
        elif index > FAILED_LEGEND_LIMIT:
            break
        else:
            name = f"✕ {row.status_kind}: {row.config} · {row.load_label}"
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=esc(name),
                marker={"symbol": symbol, "color": color, "size": 10},
                hoverinfo="skip",
                legendgroup="failed",
                meta={"role": "failed", "cell_id": row.cell_id, "reason": row.status_text},
            )
        )
    return len(rows)


def load_axis(
    fig: go.Figure,
    summary: pd.DataFrame,
    *,
    row: int | None = None,
    col: int | None = None,
) -> bool:
    """Set the load-point x axis: log when the loads span 8× or more, ticks at the loads.

    Returns True when the axis is logarithmic.
    """
    loads = sorted({float(v) for v in summary["load"] if not math.isnan(float(v))})
    log_x = use_log_axis(loads)
    kwargs: dict[str, object] = {"type": "log" if log_x else "linear"}
    if 0 < len(loads) <= 12:
        kwargs["tickvals"] = loads
        kwargs["ticktext"] = [f"{v:g}" for v in loads]
    where = {"row": row, "col": col} if row is not None else {}
    fig.update_xaxes(**kwargs, **where)
    return log_x


def latency_axis_type(values_us: Sequence[float], ratio: float = 50.0) -> str:
    """``log`` when the latencies shown span ``ratio``× or more, else ``linear``."""
    return "log" if use_log_axis(list(values_us), ratio) else "linear"
