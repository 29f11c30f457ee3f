"""The capacity plan as one self-contained HTML page (``plan.html``), and both writers.

The page is assembled like the run report and the comparison view: the dashboards'
stylesheet and dark-mode script, plotly.js inlined once in the head, each figure in the
dashboards' section markup (``dashboards.html.figure_html``). Every string taken from
the run goes through ``html.escape``; nothing loads from the network.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path

from plotly.offline import get_plotlyjs

from dashboards.html import figure_html
from dashboards.panels import Panel
from dashboards.theme import DARK, LIGHT
from runner.plan.analysis import Plan
from runner.plan.figures import capacity_figure, latency_figure, usl_figure
from runner.plan.options import describe_slo
from runner.plan.recommend import explain
from runner.plan.report_md import METHOD, header_lines, render_markdown
from runner.plan.scaling import AXES
from runner.plan.tables import Table, capacity_table, fits_table, options_table

_TABLE_CSS = """
table.plan { border-collapse: collapse; font-size: 13px; width: 100%; }
table.plan th, table.plan td { border-bottom: 1px solid var(--border); padding: 4px 8px;
  text-align: left; vertical-align: top; }
table.plan th { color: var(--muted); font-weight: 600; }
.recommend { font-size: 1.05rem; border-left: 4px solid var(--good); }
ul.limits li { margin: 2px 0; }
.table-wrap { overflow-x: auto; }
"""


def _asset(name: str) -> str:
    return resources.files("dashboards").joinpath(name).read_text(encoding="utf-8")


def html_table(table: Table) -> str:
    """An escaped HTML table."""
    headers, rows = table
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<div class="table-wrap"><table class="plan"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def panels(plan: Plan) -> list[Panel]:
    """The figures of the plan, each with what it shows."""
    out = [
        Panel(
            "capacity",
            "Capacity per configuration",
            "Bars: the highest load meeting the SLO (hatched: a lower bound; whiskers: the "
            "repetitions' min–max). Diamonds: what each instance is planned to serve after "
            "headroom. Green: recommended; blue: runner-up.",
            capacity_figure(plan),
        ),
        Panel(
            "latency",
            f"{plan.slo.percentile} against throughput",
            "Every load point judged: ● met the SLO, ✕ did not. Closed-loop points are "
            "service times under N connections, not open-loop latencies.",
            latency_figure(plan),
        ),
    ]
    for axis in AXES:
        fig = usl_figure(plan, axis)
        if fig is None:
            continue
        out.append(
            Panel(
                f"usl-{axis}",
                f"Scalability over {axis}",
                "Points: measured throughput (one per repetition). Solid curve: a usable USL "
                "fit, extended to its peak N* (★). Dashed: a refused fit, drawn only across "
                "the measured range — it must not be extrapolated.",
                fig,
            )
        )
    return out


def render_html(plan: Plan) -> str:
    """The whole HTML page as a string."""
    slo_text = describe_slo(plan.slo)
    title = f"bench plan: {plan.scenario}"
    facts = "".join(
        f"<li>{html.escape(line[2:].replace('`', ''))}</li>" for line in header_lines(plan)
    )
    limits = "".join(
        f"<li><b>{html.escape(limit.kind)}</b>: {html.escape(limit.text)}</li>"
        for limit in plan.limits
    )
    figures = panels(plan)
    sections = "\n".join(figure_html(p) for p in figures)
    fits = (
        f'<section class="card"><h2>Scalability (Universal Scalability Law)</h2>{html_table(fits_table(plan))}</section>'
        if plan.fits
        else ""
    )
    method = "".join(
        f"<li>{html.escape(item.strip().removeprefix('- ').replace('**', ''))}</li>"
        for item in METHOD.format(percentile=plan.slo.percentile).split("\n- ")
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bench">
<title>{html.escape(title)}</title>
<style>
{_asset("report.css")}
{_TABLE_CSS}
</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body data-figures="{len(figures)}" data-dark="{html.escape(json.dumps(DARK))}" \
data-light="{html.escape(json.dumps(LIGHT))}">
<main>
<h1>{html.escape(title)}</h1>
<p class="lede">Which configuration serves the target within the SLO, how many instances it \
takes, and where the measurements stop.</p>
<section class="card"><ul>{facts}</ul></section>
<section class="card recommend"><h2>Recommendation</h2><p>{html.escape(explain(plan.recommendation, slo_text))}</p></section>
<section class="card"><h2>Capacity per configuration at the SLO</h2>{html_table(capacity_table(plan))}</section>
<section class="card"><h2>Options for the target</h2>{html_table(options_table(plan))}</section>
{fits}
<section class="card"><h2>Limits of what was measured</h2><ul class="limits">{limits or "<li>none noted</li>"}</ul></section>
{sections}
<section class="card"><h2>Method</h2><ul>{method}</ul></section>
<footer>Generated by bench plan from {html.escape(plan.run_dir.name)}. Self-contained: works offline.</footer>
</main>
<script type="text/javascript">
{_asset("report.js")}
</script>
</body>
</html>
"""


def write_reports(plan: Plan, out_dir: Path) -> tuple[Path, Path]:
    """Write ``plan.md`` and ``plan.html`` into ``out_dir`` (atomically); return their paths."""
    from runner.results import atomic_write_bytes

    md = out_dir / "plan.md"
    page = out_dir / "plan.html"
    atomic_write_bytes(md, render_markdown(plan).encode("utf-8"))
    atomic_write_bytes(page, render_html(plan).encode("utf-8"))
    return md, page
