"""The one service-level objective type: its limits, its judge, its text, where it is read.

How this works: an ``Slo`` holds latency limits in µs by percentile key (``p99`` …) and an
error-rate limit. The scenario's ``slo:`` (cells), a search's ``load.slo`` and
``bench plan --slo`` all become one. Every judge — a cell's ``slo_pass`` in a row, the
dashboard's verdict over a summary row, a search step or a plan point — reads the same
limits:

- an SLO that names no error rate allows ``DEFAULT_ERROR_RATE`` (0.1 %): a latency
  percentile over the successful responses says nothing of the ones that failed, so a
  cell with 5 % errors never "holds" a latency-only SLO;
- a percentile that was not measured is unknown (the verdict is ``None`` when nothing it
  limits is known), never a pass;
- capacity (a search or a plan) is judged on one percentile, ``percentile``: ``p99`` when
  the SLO limits it, else the highest it limits (``narrowed`` keeps only that one).

The manifest keeps the scenario's text (``scenario_text``); ``slo_from_manifest`` reads
the SLO back with the scenario's own unit parsers, so ``p99: 250ms`` means the same to
every reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from bench.runner.results.formatting import format_latency
from bench.runner.units import parse_duration, parse_fraction

#: SLO keys that limit a latency percentile -> the summary column they apply to.
LATENCY_KEYS: dict[str, str] = {
    "p50": "p50_us",
    "p90": "p90_us",
    "p99": "p99_us",
    "p999": "p999_us",
    "p9999": "p9999_us",
}

#: Display names of the SLO keys.
KEY_NAMES: dict[str, str] = {
    "p50": "p50",
    "p90": "p90",
    "p99": "p99",
    "p999": "p99.9",
    "p9999": "p99.99",
}

#: Error rate allowed when an SLO names only latency limits.
DEFAULT_ERROR_RATE = 0.001

#: The order capacity picks its one percentile in: p99 first, then the highest.
_JUDGED_ORDER: tuple[str, ...] = ("p99", "p9999", "p999", "p90", "p50")


@dataclass(frozen=True, slots=True)
class Slo:
    """Latency limits in µs by key (``p99`` …) and an error-rate limit (fraction).

    ``error_rate`` is the limit the user gave (None: not given, and
    ``DEFAULT_ERROR_RATE`` applies — see ``error_limit``).
    """

    latency_us: dict[str, float] = field(default_factory=dict)
    error_rate: float | None = None

    def __post_init__(self) -> None:
        unknown = set(self.latency_us) - set(LATENCY_KEYS)
        if unknown:
            raise ValueError(f"unknown SLO key(s) {sorted(unknown)}; allowed: {list(LATENCY_KEYS)}")

    @property
    def empty(self) -> bool:
        """True when the SLO limits nothing (no latency and no error rate given)."""
        return not self.latency_us and self.error_rate is None

    @property
    def error_limit(self) -> float:
        """The error rate allowed: the one given, else ``DEFAULT_ERROR_RATE``."""
        return DEFAULT_ERROR_RATE if self.error_rate is None else self.error_rate

    @property
    def percentile(self) -> str:
        """The percentile capacity is judged on: ``p99`` if limited, else the highest.

        Raises:
            ValueError: the SLO limits no latency percentile.
        """
        for key in _JUDGED_ORDER:
            if key in self.latency_us:
                return key
        raise ValueError("the SLO limits no latency percentile")

    @property
    def limit_us(self) -> float:
        """The limit of ``percentile``, in µs."""
        return self.latency_us[self.percentile]

    def narrowed(self) -> Slo:
        """This SLO on its one judged percentile (what a search or a plan holds)."""
        return Slo({self.percentile: self.limit_us}, self.error_rate)

    def describe(self) -> str:
        """``"p99 ≤ 250 ms, errors ≤ 0.1%"`` (the error limit that applies, always)."""
        parts = [f"{KEY_NAMES[k]} ≤ {format_latency(v)}" for k, v in self.latency_us.items()]
        parts.append(f"errors ≤ {self.error_limit * 100:.3g}%")
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
        rate = _number(values.get("error_rate"))
        if rate is not None:
            known = True
            if rate > self.error_limit:
                return False
        return True if known else None


def _number(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def slo_from_mapping(data: Mapping[str, Any] | None) -> Slo | None:
    """An ``Slo`` from a scenario's ``slo:`` mapping; None when absent or unreadable."""
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


def slo_from_manifest(manifest: Mapping[str, Any], *, search_first: bool = False) -> Slo | None:
    """The SLO of the run's scenario (read from ``scenario_text``), or None.

    The scenario's ``slo:`` judges its cells. With ``search_first`` (``bench plan``), the
    objective a search held (``load.slo``) comes first: capacities found against it are
    judged against it.
    """
    text = manifest.get("scenario_text")
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, Mapping):
        return None
    load = data.get("load")
    search = slo_from_mapping(load.get("slo")) if isinstance(load, Mapping) else None
    cells = slo_from_mapping(data.get("slo"))
    return (search or cells) if search_first else cells
