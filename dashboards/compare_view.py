"""The comparison view: baseline vs candidate per figure, verdicts highlighted.

``comparison_figures`` is pure (verdicts + the two cells tables -> plotly figures):

1. an overview — every relative gate's change with its interval, the ±threshold band,
   coloured by verdict (regressions stand out in red);
2. one figure per metric — each cell's repetitions, baseline and candidate side by side
   (box + every point), the cell's background tinted by its verdict, the change above.

``build_comparison_report`` writes them with the verdict table into one self-contained
HTML file (plotly.js inlined once), in the run report's look (``bench.dashboards.html``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.html import figure_html, page
from bench.dashboards.panels import Panel
from bench.dashboards.profile_diff_view import DIFF_CSS, diff_html
from bench.dashboards.theme import esc, latency_unit, no_data, style
from bench.runner.compare.decide import Outcome
from bench.runner.compare.formatting import format_change, format_interval, metric_label
from bench.runner.compare.judge import STATUS_METRIC, Verdict, summarize
from bench.runner.compare.render import HEADERS, Context, headline, rule_text, verdict_row
from bench.runner.compare.table import METRIC_COLUMNS, split_cells, unit
from bench.runner.results.store import atomic_write_bytes
from bench.runner.scenario.gates import Gates

#: Verdict -> (solid colour, background tint).
VERDICT_COLORS: dict[Outcome, tuple[str, str]] = {
    Outcome.REGRESSED: ("#C62828", "rgba(198, 40, 40, 0.12)"),
    Outcome.IMPROVED: ("#2E7D32", "rgba(46, 125, 50, 0.10)"),
    Outcome.INCONCLUSIVE: ("#EF8F00", "rgba(239, 143, 0, 0.10)"),
    Outcome.UNCHANGED: ("#757575", "rgba(0, 0, 0, 0)"),
}
BASELINE_COLOR = "#8C8C8C"
CANDIDATE_COLOR = "#0072B2"
_MARKS = {
    Outcome.REGRESSED: "▼",
    Outcome.IMPROVED: "▲",
    Outcome.INCONCLUSIVE: "?",
    Outcome.UNCHANGED: "=",
}


def _scale(metric: str, values: Sequence[float]) -> tuple[list[float], str]:
    """Values in a display unit, and the axis title."""
    kind = unit(metric)
    if kind == "µs":
        u = latency_unit(values)
        return [u.one(v) for v in values], f"{metric_label(metric)} ({u.label})"
    if kind == "bytes":
        return [v / 2**20 for v in values], f"{metric_label(metric)} (MiB)"
    if kind == "fraction":
        return [v * 100 for v in values], f"{metric_label(metric)} (%)"
    return list(values), f"{metric_label(metric)} ({kind})"


def overview_figure(verdicts: Sequence[Verdict]) -> go.Figure:
    """Every relative gate's change (median ratio − 1) with its interval, by verdict."""
    gates = [
        v
        for v in verdicts
        if v.metric != STATUS_METRIC and unit(v.metric) != "fraction" and v.change is not None
    ]
    fig = go.Figure()
    height = max(320, 110 + 26 * len(gates))
    style(fig, title="Change per gate (candidate vs baseline), with its interval", height=height)
    if not gates:
        return no_data(fig, "no gate with a relative change")
    labels = [f"{esc(v.cell)} · {esc(metric_label(v.metric))}" for v in gates]
    for outcome in Outcome:
        picked = [(i, v) for i, v in enumerate(gates) if v.outcome == outcome]
        if not picked:
            continue
        xs = [100 * (v.change or 0.0) for _, v in picked]
        lows = [
            x - 100 * v.lower if v.lower is not None else 0.0
            for x, (_, v) in zip(xs, picked, strict=True)
        ]
        highs = [
            100 * v.upper - x if v.upper is not None else 0.0
            for x, (_, v) in zip(xs, picked, strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[labels[i] for i, _ in picked],
                mode="markers",
                name=str(outcome),
                marker={"color": VERDICT_COLORS[outcome][0], "size": 10},
                error_x={"type": "data", "symmetric": False, "array": highs, "arrayminus": lows},
                hovertext=[
                    f"{labels[i]}<br>{esc(format_change(v.metric, v.change))} "
                    f"({esc(format_interval(v.metric, v.lower, v.upper))})<br>{esc(v.reason)}"
                    for i, v in picked
                ],
                hoverinfo="text",
            )
        )
    thresholds = sorted({v.threshold for v in gates if v.threshold})
    for t in thresholds:
        fig.add_vrect(x0=-100 * t, x1=100 * t, fillcolor="rgba(0,0,0,0.05)", line_width=0)
    fig.add_vline(x=0, line={"color": "#444", "width": 1})
    fig.update_xaxes(title="change of the median (%): + means the value went up", zeroline=False)
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def metric_figure(
    metric: str,
    verdicts: Sequence[Verdict],
    baseline_df: pd.DataFrame,
    candidate_df: pd.DataFrame,
) -> go.Figure:
    """One metric: each cell's repetitions, baseline vs candidate, tinted by verdict."""
    gates = [v for v in verdicts if v.metric == metric]
    fig = go.Figure()
    style(fig, title=f"{metric_label(metric)}: baseline vs candidate, per cell")
    if not gates:
        return no_data(fig, f"no {metric_label(metric)} gate")
    base_cells, cand_cells = split_cells(baseline_df), split_cells(candidate_df)
    labels = [esc(v.cell) for v in gates]
    all_values: list[float] = []
    sides: list[tuple[str, str, list[str], list[float]]] = []
    for name, color, cells in (
        ("baseline", BASELINE_COLOR, base_cells),
        ("candidate", CANDIDATE_COLOR, cand_cells),
    ):
        xs: list[str] = []
        ys: list[float] = []
        for label, v in zip(labels, gates, strict=True):
            rows = cells.get(v.cell_id)
            values = rows.values(metric) if rows is not None else []
            xs += [label] * len(values)
            ys += values
        all_values += ys
        sides.append((name, color, xs, ys))
    scaled_all, axis_title = _scale(metric, all_values)
    offset = 0
    for name, color, xs, ys in sides:
        scaled = scaled_all[offset : offset + len(ys)]
        offset += len(ys)
        fig.add_trace(
            go.Box(
                x=xs,
                y=scaled,
                name=name,
                marker={"color": color, "size": 7},
                line={"color": color},
                boxpoints="all",
                jitter=0.35,
                pointpos=0,
            )
        )
    fig.update_layout(boxmode="group")
    for i, v in enumerate(gates):
        solid, tint = VERDICT_COLORS[v.outcome]
        fig.add_vrect(x0=i - 0.5, x1=i + 0.5, fillcolor=tint, line_width=0, layer="below")
        fig.add_annotation(
            x=labels[i],
            y=1.0,
            yref="paper",
            yanchor="bottom",
            showarrow=False,
            text=f"{_MARKS[v.outcome]} {esc(format_change(v.metric, v.change))} {esc(str(v.outcome))}",
            font={"color": solid, "size": 12},
            hovertext=esc(v.reason),
        )
    fig.update_yaxes(title=axis_title)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels)
    return fig


def comparison_figures(
    verdicts: Sequence[Verdict], baseline_df: pd.DataFrame, candidate_df: pd.DataFrame
) -> list[go.Figure]:
    """The overview, then one figure per judged metric (in gate order)."""
    metrics: list[str] = []
    for v in verdicts:
        if v.metric in METRIC_COLUMNS and v.metric not in metrics:
            metrics.append(v.metric)
    figures = [overview_figure(verdicts)]
    figures += [metric_figure(m, verdicts, baseline_df, candidate_df) for m in metrics]
    return figures


#: Styles of the verdict table, on top of the run report's stylesheet.
_TABLE_CSS = """
table.verdicts { border-collapse: collapse; font-size: 13px; width: 100%; }
table.verdicts th, table.verdicts td { border-bottom: 1px solid rgba(128, 128, 128, 0.3);
  padding: 4px 8px; text-align: left; vertical-align: top; }
table.verdicts tr.regressed td { background: rgba(198, 40, 40, 0.12); }
table.verdicts tr.improved td { background: rgba(46, 125, 50, 0.10); }
table.verdicts tr.inconclusive td { background: rgba(239, 143, 0, 0.10); }
"""

#: Figure key -> (heading, what it shows).
_EXPLAINS: dict[str, str] = {
    "overview": (
        "Each dot is one gate (cell × metric): how far the candidate's median moved from the "
        "baseline's, with its interval. The grey band is the allowed change; red dots are "
        "regressions, orange ones could not be told apart from the noise."
    ),
    "metric": (
        "Every repetition of every cell, baseline (grey) beside candidate (blue). A cell's "
        "background is tinted by its verdict; the change of the median is written above it."
    ),
}


def _html_table(verdicts: Sequence[Verdict]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS)
    rows = []
    for v in verdicts:
        cells = "".join(f"<td>{html.escape(x)}</td>" for x in verdict_row(v))
        rows.append(f'<tr class="{v.outcome}">{cells}</tr>')
    return (
        f'<table class="verdicts"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def comparison_page(
    verdicts: Sequence[Verdict],
    baseline_df: pd.DataFrame,
    candidate_df: pd.DataFrame,
    context: Any = None,
    profile_diffs: Sequence[Any] = (),
) -> str:
    """The comparison as one HTML page (a string): table, notes, rule, figures.

    Figures go through the run report's section markup (``bench.dashboards.html.figure_html``)
    and its stylesheet and dark-mode script, so both pages look alike.
    """
    ctx = context if context is not None else Context("baseline", "candidate", None, Gates())
    summary = summarize(verdicts, ctx.gates)
    figures = comparison_figures(verdicts, baseline_df, candidate_df)
    panels = [
        Panel(
            key="overview" if i == 0 else f"metric-{i}",
            title=str(fig.layout.title.text or ""),
            explains=_EXPLAINS["overview" if i == 0 else "metric"],
            figure=fig,
        )
        for i, fig in enumerate(figures)
    ]
    notes = list(ctx.notes) + sorted({f"{v.cell}: {n}" for v in verdicts for n in v.notes})
    notes_html = (
        "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>" if notes else ""
    )
    scenario = f" · scenario {ctx.scenario}" if ctx.scenario else ""
    title = f"bench compare: {headline(summary)}"
    sections = "\n".join(figure_html(p) for p in panels)
    body = f"""<p class="lede">{html.escape(f"baseline {ctx.baseline} → candidate {ctx.candidate}{scenario}")}</p>
<section class="card">{_html_table(verdicts)}{notes_html}
<p class="lede">{html.escape(rule_text(summary, ctx.gates))}</p></section>
{sections}{diff_html(profile_diffs)}"""
    return page(
        title,
        body,
        figures=len(panels),
        footer="Generated by bench compare. Self-contained: works offline.",
        css=_TABLE_CSS + DIFF_CSS,
    )


def build_comparison_report(
    verdicts: Sequence[Verdict],
    baseline_df: pd.DataFrame,
    candidate_df: pd.DataFrame,
    out: Path,
    *,
    context: Any = None,
    profile_diffs: Sequence[Any] = (),
) -> Path:
    """Write the comparison as one self-contained HTML file; return its path.

    ``context`` is a ``bench.runner.compare.render.Context`` (names, gates, notes); without
    it the default gates are assumed for the explanatory text.
    """
    page = comparison_page(verdicts, baseline_df, candidate_df, context, profile_diffs)
    atomic_write_bytes(out, page.encode("utf-8"))
    return out
