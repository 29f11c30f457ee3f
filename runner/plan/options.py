"""The SLO and headroom of ``bench plan``, from the command line or the run's scenario.

``--slo`` takes ``KEY<=VALUE`` terms, repeated or comma-separated: a latency percentile
(``p50``, ``p90``, ``p99``, ``p99.9``/``p999``, ``p99.99``/``p9999``) with a duration
(``250ms``), and ``error_rate`` (or ``errors``) with a percentage (``0.1%``). A plan holds
one latency limit — the percentile its capacities are judged on — and the error rate
defaults to ``bench.runner.results.slo.DEFAULT_ERROR_RATE`` when not given. Without ``--slo`` the
run's search objective (``load.slo:``) or the scenario's ``slo:`` is used
(``bench.runner.results.slo.slo_from_manifest``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bench.runner.errors import UsageError
from bench.runner.results.slo import Slo
from bench.runner.units import parse_duration, parse_fraction

_TERM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|≤|<)\s*(.+?)\s*$")
_PERCENTILES: dict[str, str] = {
    "p50": "p50",
    "p90": "p90",
    "p99": "p99",
    "p99.9": "p999",
    "p999": "p999",
    "p99.99": "p9999",
    "p9999": "p9999",
}
_ERRORS = ("error_rate", "errors", "error-rate")


def parse_slo(items: Sequence[str]) -> Slo:
    """An SLO from ``--slo`` terms.

    Raises:
        UsageError: a malformed term, an unknown key, two latency limits, or none.
    """
    latency: tuple[str, float] | None = None
    error_rate: float | None = None
    for item in items:
        for term in filter(None, (t.strip() for t in item.split(","))):
            match = _TERM.match(term)
            if not match:
                raise UsageError(
                    f"--slo {term!r}: expected KEY<=VALUE, e.g. p99<=100ms or error_rate<=0.1%"
                )
            key, _, value = match.groups()
            key = key.lower()
            if key in _ERRORS:
                try:
                    error_rate = parse_fraction(value)
                except ValueError as exc:
                    raise UsageError(f"--slo {term!r}: {exc}") from None
                continue
            if key not in _PERCENTILES:
                allowed = ", ".join([*_PERCENTILES, "error_rate"])
                raise UsageError(f"--slo {term!r}: unknown key {key!r}; allowed: {allowed}")
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                raise UsageError(f"--slo {term!r}: {exc}") from None
            if seconds <= 0:
                raise UsageError(f"--slo {term!r}: the latency limit must be more than 0")
            if latency is not None and latency[0] != _PERCENTILES[key]:
                raise UsageError(
                    f"--slo: one latency percentile per plan (got {latency[0]} and {key}); "
                    "capacities are judged on one"
                )
            latency = (_PERCENTILES[key], seconds * 1e6)
    if latency is None:
        raise UsageError("--slo needs a latency limit, e.g. --slo 'p99<=100ms'")
    return Slo({latency[0]: latency[1]}, error_rate)


def parse_headroom(text: str) -> float:
    """``30%`` or ``0.3`` -> 0.3, in [0, 1).

    Raises:
        ValueError: not a fraction, or 100% and more (nothing left to serve with).
    """
    value = parse_fraction(text)
    if value >= 1.0:
        raise ValueError("headroom must be below 100% (an instance must serve something)")
    return value
