"""The scenario's service-level objective, as the dashboards draw and judge it.

The manifest keeps the scenario's text (``scenario_text``); the SLO is read back from it
with the scenario's own unit parsers, so ``p99: 250ms`` means the same here as in the
runner. A cell passes when every latency limit holds on its merged histogram's
percentile and its pooled error rate is within ``error_rate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from runner.results.formatting import format_latency
from runner.units import parse_duration, parse_fraction

#: SLO keys that limit a latency percentile -> the summary column they apply to.
LATENCY_KEYS: dict[str, str] = {
    "p50": "p50_us",
    "p90": "p90_us",
    "p99": "p99_us",
    "p999": "p999_us",
}

#: Display names of the SLO keys.
KEY_NAMES: dict[str, str] = {"p50": "p50", "p90": "p90", "p99": "p99", "p999": "p99.9"}


@dataclass(frozen=True, slots=True)
class Slo:
    """Latency limits in µs by key (``p99`` …) and an error-rate limit (fraction)."""

    latency_us: dict[str, float] = field(default_factory=dict)
    error_rate: float | None = None

    @property
    def empty(self) -> bool:
        """True when the SLO limits nothing."""
        return not self.latency_us and self.error_rate is None

    def describe(self) -> str:
        """``"p99 ≤ 250 ms, errors ≤ 0.1%"``."""
        parts = [f"{KEY_NAMES[k]} ≤ {format_latency(v)}" for k, v in self.latency_us.items()]
        if self.error_rate is not None:
            parts.append(f"errors ≤ {self.error_rate * 100:.3g}%")
        return ", ".join(parts)

    def verdict(self, values: Mapping[str, Any]) -> bool | None:
        """Pass/fail for a row holding ``p99_us``… and ``error_rate``; None if unknown."""
        if self.empty:
            return None
        known = False
        for key, limit in self.latency_us.items():
            value = _number(values.get(LATENCY_KEYS[key]))
            if value is None:
                continue
            known = True
            if value > limit:
                return False
        if self.error_rate is not None:
            rate = _number(values.get("error_rate"))
            if rate is not None:
                known = True
                if rate > self.error_rate:
                    return False
        return True if known else None


def _number(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def slo_from_mapping(data: Mapping[str, Any] | None) -> Slo | None:
    """An ``Slo`` from the scenario's ``slo:`` mapping; None when absent or unreadable."""
    if not isinstance(data, Mapping):
        return None
    latency: dict[str, float] = {}
    error_rate: float | None = None
    try:
        for key in LATENCY_KEYS:
            if data.get(key) is not None:
                latency[key] = parse_duration(data[key]) * 1e6
        if data.get("error_rate") is not None:
            error_rate = parse_fraction(data["error_rate"])
    except ValueError:
        return None
    slo = Slo(latency, error_rate)
    return None if slo.empty else slo


def slo_from_manifest(manifest: Mapping[str, Any]) -> Slo | None:
    """The SLO of the run's scenario (from ``scenario_text``), or None."""
    text = manifest.get("scenario_text")
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, Mapping):
        return None
    return slo_from_mapping(data.get("slo"))
