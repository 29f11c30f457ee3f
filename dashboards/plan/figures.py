"""The plan's figures (pure: Plan -> plotly figures), in the dashboards' look.

1. ``capacity_figure``: capacity at the SLO per configuration (bars; hatched when a
   lower bound, with the repetitions' min–max), the planned rate per instance after
   headroom (diamonds), the recommended and runner-up configurations highlighted. Each
   value ("≥ 1,543") is written past its bar and whisker, in the text colour: never white
   on a hatched bar, never under a diamond.
2. ``latency_figure``: the SLO's percentile against throughput for every judged point of
   every configuration, with the SLO's limit: where each configuration crosses it. Log
   latency axis with 1-2-5 ticks; log throughput axis when the rates span 10× or more.
3. ``usl_figure(axis)``: throughput against workers / threads / concurrency — every
   measured point, and the fitted USL curve: solid up to past its peak N* when the fit
   is usable, dashed and only across the measured range when it was refused.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from bench.dashboards.figures.latency import throughput_axis_type
from bench.dashboards.theme import (
    SLO_COLOR,
    colors_for,
    esc,
    figure,
    latency_unit,
    log_ticks,
    no_data,
    style,
)
from bench.runner.plan.analysis import Plan
from bench.runner.plan.capacity import Capacity
from bench.runner.plan.scaling import Axis, ScalingFit
from bench.runner.results.formatting import format_latency

RECOMMENDED_COLOR = "#2E7D32"
RUNNER_UP_COLOR = "#0072B2"
OTHER_COLOR = "#9E9E9E"
AXIS_TITLES: dict[str, str] = {
    "workers": "worker processes",
    "threads": "threads per worker",
    "concurrency": "connections (closed loop)",
}


def capacity_figure(plan: Plan) -> go.Figure:
    """Capacity at the SLO per configuration, with the planned rate after headroom."""
    rec = plan.recommendation
    fig = figure()
    caps = [c for c in plan.capacities if c.capacity_rps is not None]
    height = max(320, 140 + 34 * len(plan.capacities))
    style(fig, title=f"Capacity at {plan.slo.describe()}", height=height)
    if not caps:
        return no_data(fig, "No configuration met the SLO at any measured load.")
    best = rec.recommended.config if rec.recommended else None
    second = rec.runner_up.config if rec.runner_up else None
    labels = [esc(c.config) for c in caps]
    colors = [
        RECOMMENDED_COLOR
        if c.config == best
        else RUNNER_UP_COLOR
        if c.config == second
        else OTHER_COLOR
        for c in caps
    ]
    lo = [c.capacity_rps - c.spread[0] if c.spread else 0.0 for c in caps]  # type: ignore[operator]
    hi = [c.spread[1] - c.capacity_rps if c.spread else 0.0 for c in caps]  # type: ignore[operator]
    fig.add_bar(
        y=labels,
        x=[c.capacity_rps for c in caps],
        orientation="h",
        marker={
            "color": colors,
            "pattern": {"shape": ["/" if c.lower_bound else "" for c in caps]},
        },
        error_x={"type": "data", "array": hi, "arrayminus": lo, "visible": True},
        name="capacity at the SLO",
        hovertemplate="%{y}: %{x:,.0f} req/s<extra></extra>",
    )
    options = {o.config: o for o in rec.ranked}
    planned = [options[c.config].planned_rps if c.config in options else None for c in caps]
    hover = [
        f"{esc(c.config)}: {p:,.0f} req/s per instance"
        + (f" → {options[c.config].instances} instances" if options[c.config].instances else "")
        for c, p in zip(caps, planned, strict=True)
        if p is not None
    ]
    fig.add_scatter(
        y=labels,
        x=planned,
        mode="markers",
        marker={"symbol": "diamond", "size": 11, "color": "#212121"},
        name=f"planned per instance ({rec.headroom:.0%} headroom)",
        hovertext=hover,
        hoverinfo="text",
    )
    ends = bar_label_x(caps)
    for cap, label, end in zip(caps, labels, ends, strict=True):
        fig.add_annotation(
            x=end,
            y=label,
            text=("≥ " if cap.lower_bound else "") + f"{cap.capacity_rps:,.0f}",
            showarrow=False,
            xanchor="left",
            xshift=6,
            font={"size": 12},
            name="capacity-label",
        )
    fig.update_xaxes(title_text="req/s", range=[0, max(ends) * LABEL_ROOM])
    fig.update_yaxes(autorange="reversed")
    return fig


#: The x range reaches past the longest bar by this factor, for its label.
LABEL_ROOM = 1.3


def bar_label_x(caps: list[Capacity]) -> list[float]:
    """Where each bar's value label starts: past the bar and its error whisker, so the label
    sits on the plain background (never on a hatched bar, never on the diamond marker)."""
    return [
        max(c.capacity_rps, c.spread[1] if c.spread else c.capacity_rps)  # type: ignore[type-var]
        for c in caps
    ]


def latency_figure(plan: Plan) -> go.Figure:
    """The SLO percentile of every judged point against its rate, with the SLO line."""
    fig = figure()
    pct = plan.slo.percentile
    style(fig, title=f"{pct} vs throughput: where each configuration crosses the SLO", height=520)
    values = [
        p.latency_us for c in plan.capacities for p in c.points if math.isfinite(p.latency_us)
    ]
    if not values:
        return no_data(fig, "No measured point.")
    unit = latency_unit([*values, plan.slo.limit_us])
    colors = colors_for(c.config for c in plan.capacities)
    for cap in plan.capacities:
        points = [p for p in cap.points if math.isfinite(p.latency_us) and not math.isnan(p.rate)]
        if not points:
            continue
        fig.add_scatter(
            x=[p.rate for p in points],
            y=[unit.one(p.latency_us) for p in points],
            mode="lines+markers" if cap.source != "search" else "markers",
            name=esc(cap.config),
            line={"color": colors[cap.config], "width": 1.5},
            marker={
                "color": colors[cap.config],
                "size": [10 if p.engine_bound else 8 for p in points],
                "symbol": ["circle" if p.ok else "x" for p in points],
            },
            hovertext=[
                f"{esc(cap.config)} · {esc(p.load_label)}<br>{p.rate:,.0f} req/s · {pct} "
                f"{format_latency(p.latency_us)}<br>{'meets the SLO' if p.ok else esc(p.reason)}"
                for p in points
            ],
            hoverinfo="text",
        )
    # The limit as a trace, not a shape: shapes on a log axis take log10 coordinates.
    rates = [p.rate for c in plan.capacities for p in c.points if not math.isnan(p.rate)]
    log_x = throughput_axis_type(rates) == "log"
    limit = unit.one(plan.slo.limit_us)
    fig.add_scatter(
        x=[min(rates, default=1.0) * 0.9 if log_x else 0.0, max(rates, default=1.0) * 1.05],
        y=[limit, limit],
        mode="lines",
        line={"color": SLO_COLOR, "dash": "dash"},
        name=esc(f"SLO: {pct} ≤ {format_latency(plan.slo.limit_us)}"),
        hoverinfo="skip",
    )
    if log_x:
        fig.update_xaxes(type="log", **log_ticks(rates))
    else:
        fig.update_xaxes(rangemode="tozero")
    fig.update_xaxes(title_text="throughput or arrival rate (req/s)")
    shown = [unit.one(v) for v in values] + [limit]
    fig.update_yaxes(title_text=f"{pct} ({unit.label})", type="log", **log_ticks(shown))
    return fig


def _curve(fit: ScalingFit) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """x, y of the fitted curve, and whether it is the usable (solid) kind."""
    if fit.fit is None:
        return None
    lo = 1.0 if fit.axis != "concurrency" else min(fit.n)
    top = max(fit.n)
    if fit.usable and math.isfinite(fit.fit.n_star):
        top = max(top, min(fit.fit.n_star * 1.5, 4 * top))
    xs = np.linspace(lo, top, 120)
    return xs, np.asarray(fit.fit.predict(xs)), fit.usable


def usl_figure(plan: Plan, axis: Axis) -> go.Figure | None:
    """Throughput vs ``axis`` with the USL curves; None when no family varies along it."""
    fits = [f for f in plan.fits if f.axis == axis]
    if not fits:
        return None
    fig = figure()
    style(fig, title=f"Throughput vs {AXIS_TITLES[axis]}, with the USL fit", height=520)
    colors = colors_for(f.family for f in fits)
    for fit in fits:
        color = colors[fit.family]
        fig.add_scatter(
            x=list(fit.n),
            y=list(fit.x),
            mode="markers",
            name=esc(f"{fit.family} (measured)"),
            legendgroup=esc(fit.family),
            marker={"color": color, "size": 8},
            hovertemplate=f"{esc(fit.family)}<br>{axis}=%{{x}}: %{{y:,.0f}} req/s<extra></extra>",
        )
        curve = _curve(fit)
        if curve is None:
            continue
        xs, ys, usable = curve
        f = fit.fit
        assert f is not None
        status = "USL" if usable else "USL, refused"
        fig.add_scatter(
            x=xs,
            y=ys,
            mode="lines",
            name=esc(f"{fit.family} ({status}: σ={f.sigma:.3f}, κ={f.kappa:.1e}, R²={f.r2:.2f})"),
            legendgroup=esc(fit.family),
            line={"color": color, "dash": "solid" if usable else "dash"},
            hoverinfo="skip",
        )
        if usable and math.isfinite(f.n_star):
            fig.add_scatter(
                x=[f.n_star],
                y=[f.x_max],
                mode="markers",
                marker={"symbol": "star", "size": 14, "color": color},
                name=esc(f"{fit.family}: peak N* = {f.n_star:.1f}"),
                legendgroup=esc(fit.family),
            )
    fig.update_xaxes(title_text=AXIS_TITLES[axis], rangemode="tozero")
    fig.update_yaxes(title_text="throughput (req/s)", rangemode="tozero")
    return fig
