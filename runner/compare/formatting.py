"""Human text for gate numbers: values in their unit, changes, p-values (pure)."""

from __future__ import annotations

import math

from bench.runner.compare.table import unit
from bench.runner.scenario.gates import METRICS_BY_NAME


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def format_value(metric: str, value: float | None, *, short: bool = False) -> str:
    """``12,345 req/s``, ``2.50 ms``, ``850 µs``, ``58.2 MiB``, ``0.12%``; ``—`` if unknown.

    ``short`` leaves out units the metric's name already says (req/s).
    """
    if not _finite(value):
        return "—"
    assert value is not None
    kind = unit(metric)
    if kind == "µs":
        if value >= 1_000_000:
            return f"{value / 1e6:.3g} s"
        if value >= 1_000:
            return f"{value / 1e3:.3g} ms"
        return f"{value:.0f} µs"
    if kind == "bytes":
        return f"{value / 2**20:.1f} MiB"
    if kind == "fraction":
        return f"{value * 100:.3g}%"
    if kind == "req/s":
        text = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
        return text if short else f"{text} req/s"
    return f"{value:.4g} {kind}".strip()


def format_change(metric: str, change: float | None) -> str:
    """``+10.2%`` (relative) or ``+0.05 pp`` (absolute, percentage points)."""
    if not _finite(change):
        return "—"
    assert change is not None
    if METRICS_BY_NAME[metric].absolute:
        return f"{change * 100:+.3g} pp"
    return f"{change * 100:+.1f}%" if abs(change) < 1 else f"{change * 100:+.0f}%"


def format_interval(
    metric: str, lower: float | None, upper: float | None, *, short: bool = False
) -> str:
    """``+6.1% … +18.0%`` (``short``: ``+6.1 … +18.0%``); ``—`` when unbounded both ways."""
    low_ok, high_ok = _finite(lower), _finite(upper)
    if not low_ok and not high_ok:
        return "—"
    low = format_change(metric, lower) if low_ok else "−∞"
    high = format_change(metric, upper) if high_ok else "+∞"
    if short:
        unit_text = " pp" if METRICS_BY_NAME[metric].absolute else "%"
        return f"{low.removesuffix(unit_text)} … {high}"
    return f"{low} … {high}"


def format_threshold(metric: str, threshold: float | None) -> str:
    """``±5%`` or ``±0.1 pp``; ``off``."""
    if threshold is None:
        return "off"
    if METRICS_BY_NAME[metric].absolute:
        return f"±{threshold * 100:.3g} pp"
    return f"±{threshold * 100:.3g}%"


def format_p(p: float | None) -> str:
    """``0.004``, ``<0.001``; ``—`` when there is none."""
    if not _finite(p):
        return "—"
    assert p is not None
    if p < 0.001:
        return "<0.001"
    return f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def metric_label(metric: str) -> str:
    """The metric's display name (``p99.9``, ``req/s``); ``status`` for cell status."""
    spec = METRICS_BY_NAME.get(metric)
    return spec.label if spec else metric
