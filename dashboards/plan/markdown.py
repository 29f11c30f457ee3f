"""The capacity plan as markdown (``plan.md``): recommendation, tables, limits, method."""

from __future__ import annotations

from bench.dashboards.plan.tables import (
    Table,
    capacity_table,
    fits_table,
    options_table,
    plan_limits,
)
from bench.runner.plan.analysis import Plan
from bench.runner.plan.recommend import explain

METHOD = """\
- **Capacity at the SLO**: for each configuration, the highest load point whose \
{percentile} (from the histogram merged over repetitions) and error rate meet the SLO — \
from an open-loop search when the run searched, else from the open-loop rates, else \
from the closed-loop cells (throughput of the best passing cell). An open-loop point \
that sent less than 95% of its target rate fails. "≥" marks a lower bound.
- **Instances** = ceil(target / (capacity × (1 − headroom))). Ranking: fewest \
instances, then least server CPU per 1,000 req/s, then highest capacity.
- **CPU per 1,000 req/s** = server CPU-seconds per request × 1,000 (the cores 1,000 req/s \
keep busy), measured at the capacity point; **RSS per 1,000 req/s** = peak RSS × 1,000 / capacity.
- **USL**: X(N) = λN / (1 + σ(N−1) + κN(N−1)), fitted by bounded least squares; 95% \
intervals from a seeded bootstrap; N* = √((1−σ)/κ). A fit is refused with fewer than 4 \
distinct N, R² < 0.90, or a peak beyond 4× the largest N measured.
- **Little's law** (closed loop): throughput × mean latency ≈ connections; deviations \
above 20% are listed.
"""


def markdown_table(table: Table) -> str:
    """A GitHub-flavoured markdown table (``|`` in cells escaped)."""
    headers, rows = table

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [line(headers), "|" + "---|" * len(headers)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def header_lines(plan: Plan) -> list[str]:
    """The facts of the plan: run, SLO, target, headroom."""
    rec = plan.recommendation
    lines = [
        f"- run: `{plan.run_dir.name}` (scenario `{plan.scenario}`)",
        f"- SLO: {plan.slo.describe()}",
        f"- target: {rec.target_rps:,.0f} req/s"
        if rec.target_rps
        else "- target: none given (ranked by capacity)",
        f"- headroom: {rec.headroom:.0%} of each instance's capacity kept free",
    ]
    started = plan.manifest.get("started_at")
    if started:
        lines.append(f"- measured: {started}")
    return lines


def render_markdown(plan: Plan) -> str:
    """The whole markdown report."""
    slo_text = plan.slo.describe()
    parts = [f"# Capacity plan: {plan.scenario}", "", *header_lines(plan), ""]
    parts += ["## Recommendation", "", explain(plan.recommendation, slo_text), ""]
    parts += [
        "## Capacity per configuration at the SLO",
        "",
        markdown_table(capacity_table(plan)),
        "",
    ]
    parts += ["## Options for the target", "", markdown_table(options_table(plan)), ""]
    if plan.fits:
        parts += [
            "## Scalability (Universal Scalability Law)",
            "",
            markdown_table(fits_table(plan)),
            "",
        ]
    parts += ["## Limits of what was measured", ""]
    parts += [f"- **{kind}**: {text}" for kind, text in plan_limits(plan)] or ["- none noted"]
    parts += ["", "## Method", "", METHOD.format(percentile=plan.slo.percentile)]
    return "\n".join(parts)
