"""The plan's tables as plain text cells, shared by the markdown and HTML reports.

Each function returns ``(headers, rows)`` of strings, so both renderers show the same
numbers formatted the same way (latencies with ``format_latency``, rates with
thousands separators, missing values as ``–``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.runner.plan.analysis import Plan
from bench.runner.plan.capacity import Capacity, PointVerdict
from bench.runner.plan.recommend import Option
from bench.runner.plan.scaling import ScalingFit
from bench.runner.results.formatting import format_bytes, format_latency, format_rate

Table = tuple[list[str], list[list[str]]]
DASH = "–"


def rate(value: float | None) -> str:
    """``"1,234 req/s"``, or ``–``."""
    return format_rate(value) if value is not None else DASH


def _point(point: PointVerdict | None, percentile: str) -> str:
    """``"c=32: p99 64.1 ms"``, or the reason it failed: ``"c=128: p99 563.2 ms > 250.0 ms"``."""
    if point is None:
        return DASH
    if point.reason:
        return f"{point.load_label}: {point.reason}"
    return f"{point.load_label}: {percentile} {format_latency(point.latency_us)}"


def capacity_text(cap: Capacity) -> str:
    """``"≥ 900 req/s"`` for lower bounds, ``"—"`` when the SLO was never met."""
    if cap.capacity_rps is None:
        return "SLO never met"
    text = ("≥ " if cap.lower_bound else "") + rate(cap.capacity_rps)
    if cap.spread and cap.spread[0] != cap.spread[1]:
        text += f" (reps {cap.spread[0]:,.0f}–{cap.spread[1]:,.0f})"
    return text


def cpu_text(value: float | None) -> str:
    """CPU-seconds per 1,000 requests (cores busy at 1,000 req/s)."""
    return f"{value:.3g} CPU-s" if value is not None else DASH


SOURCE_NAMES = {"search": "open-loop search", "open": "open loop", "closed": "closed loop"}


def capacity_table(plan: Plan) -> Table:
    """One row per configuration: capacity at the SLO and what it costs."""
    pct = plan.slo.percentile
    headers = [
        "configuration",
        "from",
        "capacity at SLO",
        "measured at",
        "next point (failed)",
        "server CPU per 1,000 req/s",
        "peak RSS",
        "RSS per 1,000 req/s",
    ]
    rows: list[list[str]] = []
    for cap in plan.capacities:
        lowest = cap.points[0] if cap.points and cap.capacity_rps is None else None
        rows.append(
            [
                cap.config,
                SOURCE_NAMES[cap.source],
                capacity_text(cap),
                _point(cap.at or lowest, pct),
                _point(cap.above, pct),
                cpu_text(cap.cpu_s_per_1k),
                format_bytes(cap.rss_peak_bytes) if cap.rss_peak_bytes else DASH,
                format_bytes(cap.rss_per_1k_bytes) if cap.rss_per_1k_bytes else DASH,
            ]
        )
    return headers, rows


def option_row(rank: str, option: Option, with_target: bool) -> list[str]:
    """One ranked option."""
    cap = option.capacity
    row = [rank, option.config, capacity_text(cap), rate(option.planned_rps)]
    if with_target:
        row += [
            option.instances_text,
            f"{option.cpu_cores_total:.2f} cores" if option.cpu_cores_total is not None else DASH,
            format_bytes(option.rss_total_bytes) if option.rss_total_bytes else DASH,
        ]
    return row


def options_table(plan: Plan) -> Table:
    """The ranked options for the target (or by capacity without one)."""
    rec = plan.recommendation
    with_target = rec.target_rps is not None
    headers = [
        "rank",
        "configuration",
        "capacity at SLO",
        f"planned per instance ({rec.headroom:.0%} headroom)",
    ]
    if with_target:
        headers += ["instances", "server CPU for the target", "memory for the target"]
    rows: list[list[str]] = []
    for i, option in enumerate(rec.ranked, 1):
        label = {1: "1 (recommended)", 2: "2 (runner-up)"}.get(i, str(i))
        rows.append(option_row(label, option, with_target))
    for config, why in rec.excluded:
        rows.append([DASH, config, why, DASH] + ([DASH] * 3 if with_target else []))
    return headers, rows


def _ci(fit_ci: tuple[float, float], fmt: str) -> str:
    lo, hi = fit_ci
    if math.isnan(lo):
        return ""
    hi_text = "∞" if math.isinf(hi) else format(hi, fmt)
    return f" [{format(lo, fmt)}, {hi_text}]"


def fit_row(fit: ScalingFit) -> list[str]:
    """One USL fit: parameters with 95% intervals, R², and whether it may be used."""
    distinct = len(set(fit.n))
    points = f"{len(fit.n)} ({distinct} distinct)"
    if fit.fit is None:
        return [
            fit.family,
            fit.axis,
            points,
            DASH,
            DASH,
            DASH,
            DASH,
            DASH,
            "refused: " + "; ".join(fit.refusals),
        ]
    f = fit.fit
    n_star = "∞ (no peak)" if math.isinf(f.n_star) else f"{f.n_star:.1f}"
    verdict = "usable" if fit.usable else "refused: " + "; ".join(fit.refusals)
    return [
        fit.family,
        fit.axis,
        points,
        f"{f.lam:,.1f}" + _ci(f.ci["lam"], ",.1f"),
        f"{f.sigma:.3f}" + _ci(f.ci["sigma"], ".3f"),
        f"{f.kappa:.2e}" + _ci(f.ci["kappa"], ".2e"),
        n_star + _ci(f.ci["n_star"], ".3g"),
        f"{f.r2:.3f}",
        verdict,
    ]


def refusal_groups(fits: Sequence[ScalingFit]) -> list[tuple[str, str, list[str]]]:
    """``(axis, reason, families)`` for the fits refused before fitting, one group per
    axis and reason: "only 2 distinct concurrency values" is said once, with every
    family it applies to, not once per family."""
    groups: dict[tuple[str, str], list[str]] = {}
    for fit in fits:
        if fit.fit is None:
            groups.setdefault((fit.axis, "; ".join(fit.refusals)), []).append(fit.family)
    return [(axis, reason, families) for (axis, reason), families in groups.items()]


def plan_limits(plan: Plan) -> list[tuple[str, str]]:
    """The plan's limits as (kind, text), each USL refusal said once for all the families
    it applies to (``refusal_groups``); the others as ``bench.runner.plan.limits`` lists them."""
    out: list[tuple[str, str]] = []
    grouped = False
    for limit in plan.limits:
        if limit.kind != "usl refused":
            out.append((limit.kind, limit.text))
            continue
        if grouped:
            continue
        grouped = True
        for axis, reason, families in refusal_groups(plan.fits):
            out.append(("usl refused", f"over {axis}, {', '.join(families)}: {reason}"))
        for fit in plan.fits:  # fitted, then refused (poor R², peak far out): one line each
            if fit.fit is not None and fit.refusals:
                out.append(("usl refused", f"{fit.family} over {fit.axis}: "
                            + "; ".join(fit.refusals)))  # fmt: skip
    return out


def fits_table(plan: Plan) -> Table:
    """Every family's USL fit; families refused for the same reason share one row."""
    headers = [
        "family",
        "axis",
        "points",
        "λ (req/s per unit)",
        "σ contention",
        "κ coherency",
        "N* peak",
        "R²",
        "verdict",
    ]
    rows = [fit_row(f) for f in plan.fits if f.fit is not None]
    for axis, reason, families in refusal_groups(plan.fits):
        rows.append([", ".join(families), axis, DASH, *[DASH] * 5, "refused: " + reason])
    return headers, rows
