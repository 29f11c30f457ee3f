"""The matrix at a glance: server configuration × load point, coloured by req/s or p99.

Two heatmaps share the grid and a toggle picks one. A tile's colour is its share of the
best value in its own load column (``column_shares``: brighter is better — more req/s,
or a lower p99), so a run whose values span orders of magnitude still tells its rows
apart at every load, not only at the load with the largest number; the value itself is
always printed on the tile. Each tile shows its value and, when the scenario has an SLO,
its verdict (✓ held, ✗ broken). An engine-bound tile shows ``≥ value``: the load
generator was the limit, so the server can do at least that. A failed tile has no
colour and reads ``✕ failed``; hovering shows the reason.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from bench.dashboards.tables import load_axis_title, ordered_configs
from bench.dashboards.theme import STATUS_STYLE, add_menu, esc, figure, latency_unit, no_data, style
from bench.runner.results.formatting import format_latency, format_rate
from bench.runner.results.slo import Slo
from bench.runner.results.status import USABLE

#: Metric key -> (button label, colour scale, higher is better?).
METRICS: dict[str, tuple[str, str, bool]] = {
    "rps": ("throughput (req/s)", "Viridis", True),
    "p99_us": ("p99 latency", "Viridis", False),
}
#: Colour bar ticks: the share of the column's best value.
SHARE_TICKS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)


def column_shares(
    values: list[list[float | None]], higher_is_better: bool
) -> list[list[float | None]]:
    """Each value as its share of the best value in its column (1.0 = the column's best).

    Throughput: ``value / column max``; latency: ``column min / value``. Missing values
    and non-positive ones stay None (no colour), so a failed tile never reads as 0.
    """
    columns = max((len(row) for row in values), default=0)
    best: list[float | None] = []
    for j in range(columns):
        column = [r[j] for r in values if j < len(r) and r[j] is not None and r[j] > 0]  # type: ignore[operator]
        best.append((max(column) if higher_is_better else min(column)) if column else None)
    out: list[list[float | None]] = []
    for row in values:
        shares: list[float | None] = []
        for j, value in enumerate(row):
            top = best[j]
            if value is None or top is None or value <= 0:
                shares.append(None)
            else:
                shares.append(value / top if higher_is_better else top / value)
        out.append(shares)
    return out


def _verdict(value: object) -> str:
    if value is True:
        return " ✓"
    if value is False:
        return " ✗"
    return ""


def tile_text(row: pd.Series, metric: str) -> str:
    """The text written on one tile (escaped)."""
    kind = row["status_kind"]
    if kind not in USABLE:
        return f"✕ {esc(kind)}"
    value = format_rate(row["rps"], "") if metric == "rps" else format_latency(row["p99_us"])
    prefix = "≥ " if kind == "engine-bound" and metric == "rps" else ""
    if kind == "overloaded":
        prefix = "▲ "  # fell behind the asked rate: what it served, at its limit
    return f"{prefix}{esc(value.strip())}{_verdict(row['slo_pass'])}"


def matrix_heatmap(summary: pd.DataFrame, slo: Slo | None = None) -> go.Figure:
    """Configurations (rows) × load points (columns) with a throughput/p99 toggle."""
    fig = figure()
    configs = ordered_configs(summary)
    height = max(360, 170 + 46 * len(configs))
    subtitle = "colour: share of each column's best"
    if slo is not None:
        subtitle += f" · SLO {slo.describe()}: ✓ held, ✗ broken"
    style(fig, title="Configuration × load point", height=height, subtitle=subtitle)
    if summary.empty:
        return no_data(fig, "No cells in this run.")
    loads = (
        summary.drop_duplicates("load_label")
        .sort_values("load", kind="stable")["load_label"]
        .tolist()
    )
    grid = {(r["config"], r["load_label"]): pd.Series(r) for r in summary.to_dict("records")}
    unit = latency_unit(summary["p99_us"])
    for index, (metric, (label, scale, higher)) in enumerate(METRICS.items()):
        z: list[list[float | None]] = []
        text: list[list[str]] = []
        hover: list[list[str]] = []
        for config in configs:
            z_row, t_row, h_row = [], [], []
            for load in loads:
                row = grid.get((config, load))
                if row is None:
                    z_row.append(None)
                    t_row.append("")
                    h_row.append(f"{esc(config)} · {esc(load)}: not in this run")
                    continue
                usable = row["status_kind"] in USABLE
                value = row[metric] if usable else None
                if value is not None and metric == "p99_us":
                    value = unit.one(value)
                z_row.append(None if value is None or pd.isna(value) else float(value))
                t_row.append(tile_text(row, metric) if usable else "")
                h_row.append(_hover(config, load, row))
            z.append(z_row)
            text.append(t_row)
            hover.append(h_row)
        best = "most req/s" if higher else "lowest p99"
        fig.add_trace(
            go.Heatmap(
                z=column_shares(z, higher),
                zmin=0.0,
                zmax=1.0,
                x=[esc(v) for v in loads],
                y=[esc(c) for c in configs],
                text=text,
                texttemplate="%{text}",
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
                colorscale=scale,
                colorbar={
                    "title": {"text": esc(f"share of the column's {best}"), "side": "right"},
                    "tickvals": list(SHARE_TICKS),
                    "ticktext": [f"{v:.0%}" for v in SHARE_TICKS],
                    "thickness": 14,
                },
                customdata=z,
                visible=index == 0,
                xgap=2,
                ygap=2,
                name=esc(label),
                meta={"metric": metric},
            )
        )
    _mark_failed(fig, summary)
    add_menu(fig, _metric_buttons())
    fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")
    mode = "open" if (summary["mode"] == "open").any() else "closed"
    fig.update_xaxes(title_text=load_axis_title(mode), type="category", side="bottom")
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    return fig


def _hover(config: str, load: str, row: pd.Series) -> str:
    lines = [f"<b>{esc(config)}</b> · {esc(load)}"]
    if row["status_kind"] in USABLE:
        lines.append(f"throughput: {format_rate(row['rps'])}")
        lines.append(f"p50 {format_latency(row['p50_us'])} · p99 {format_latency(row['p99_us'])}")
        if row["slo_pass"] is True or row["slo_pass"] is False:
            lines.append("SLO: " + ("held" if row["slo_pass"] else "broken"))
    lines.append(f"status: {esc(row['status_text'])}")
    return "<br>".join(lines)


def _mark_failed(fig: go.Figure, summary: pd.DataFrame) -> None:
    """A red-bordered ``✕ failed`` box on failed tiles, so they never read as empty or 0."""
    failed = summary[~summary["status_kind"].isin(USABLE)]
    for row in failed.itertuples():
        fig.add_annotation(
            x=esc(row.load_label),
            y=esc(row.config),
            text=tile_text(pd.Series(row._asdict()), "rps"),
            showarrow=False,
            font={"color": STATUS_STYLE["failed"][0]},
            hovertext=esc(f"{row.config} · {row.load_label} — {row.status_text}"),
            bgcolor="rgba(198, 40, 40, 0.12)",
            bordercolor=STATUS_STYLE["failed"][0],
            borderwidth=1,
            borderpad=3,
            name="failed",
        )


def _metric_buttons() -> dict[str, object]:
    buttons = [
        {
            "label": esc(label.split(" (")[0]),
            "method": "restyle",
            "args": [{"visible": [i == j for j in range(len(METRICS))]}],
        }
        for i, (label, _, _) in enumerate(METRICS.values())
    ]
    return {"type": "buttons", "direction": "right", "buttons": buttons}
