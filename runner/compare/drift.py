"""Machine drift between two runs: fingerprint differences and the reference workload.

How this works: every run's manifest holds a ``fingerprint`` (``bench.runner.results.fingerprint``:
machine id, CPU model, governor, kernel, Python, packages, pinning) and a ``reference``
(``bench.runner.session.reference``: a fixed CPU loop in ns/step and a loopback round trip in
µs). ``assess`` compares them (pure): which fingerprint keys differ, whether the runs come
from different machines, and how much slower the candidate's machine ran the CPU
reference (``cpu_ratio``: candidate / baseline, from the fastest rounds). When the
machines differ or the reference moved beyond ``CPU_TOLERANCE``, ``bench compare`` says
so and judges a *normalized* candidate beside the raw one: ``normalize`` divides the
candidate's req/s by the machine factor's inverse and its latencies by the factor — the
work per request is taken to scale with the CPU reference. The raw verdict decides the
exit code unless ``--normalize`` asks for the normalized one; nothing is silent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bench.runner.compare.table import METRIC_COLUMNS

#: The CPU reference moved when the ratio leaves 1 ± this (beyond a busy box's drift).
CPU_TOLERANCE = 0.05
#: The loopback reference moved when its ratio leaves 1 ± this (round trips are noisier).
LOOPBACK_TOLERANCE = 0.15
#: Fingerprint keys that identify the machine: a difference means another machine.
MACHINE_KEYS: tuple[str, ...] = ("machine", "cpu.model", "cpu.logical")
#: Keys left out of the diff: they differ between any two runs by nature.
VOLATILE_KEYS: frozenset[str] = frozenset({"cpu.freq_cur"})
#: Gate metrics scaled by the machine factor (latencies ×, throughput ÷).
LATENCY_METRICS: tuple[str, ...] = ("p50", "p99", "p999")


@dataclass(frozen=True, slots=True)
class Drift:
    """What changed between the baseline's machine and the candidate's.

    Attributes:
        diff: (key, baseline value, candidate value) for each fingerprint key that differs.
        other_machine: a machine-identifying key differs.
        cpu_ratio: candidate / baseline CPU reference time (1.2: the candidate's machine
            ran the loop 20 % slower); None when a side has no reference.
        loopback_ratio: the same for the loopback round trip.
        missing: the sides without a fingerprint or reference (older runs).
    """

    diff: tuple[tuple[str, str, str], ...] = ()
    other_machine: bool = False
    cpu_ratio: float | None = None
    loopback_ratio: float | None = None
    missing: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reference_moved(self) -> bool:
        """The CPU (or loopback) reference differs beyond its tolerance."""
        cpu = self.cpu_ratio is not None and abs(self.cpu_ratio - 1) > CPU_TOLERANCE
        loop = self.loopback_ratio is not None and abs(self.loopback_ratio - 1) > LOOPBACK_TOLERANCE
        return cpu or loop

    @property
    def needs_normalizing(self) -> bool:
        """Another machine or a moved reference, and a CPU factor to normalize with."""
        return self.cpu_ratio is not None and (self.other_machine or self.reference_moved)


def _best(reference: Any, task: str) -> float | None:
    if not isinstance(reference, dict):
        return None
    figure = reference.get(task)
    if not isinstance(figure, dict):
        return None
    value = figure.get("best", figure.get("value"))
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _ratio(base: Any, cand: Any, task: str) -> float | None:
    if not isinstance(base, dict) or not isinstance(cand, dict):
        return None
    if base.get("version") != cand.get("version"):
        return None  # different reference tasks: not comparable
    b, c = _best(base, task), _best(cand, task)
    return c / b if b and c else None


def assess(baseline: dict[str, Any], candidate: dict[str, Any]) -> Drift:
    """Compare two manifests' fingerprints and references (pure)."""
    missing = tuple(
        f"{side} has no {part}"
        for side, manifest in (("baseline", baseline), ("candidate", candidate))
        for part in ("fingerprint", "reference")
        if not manifest.get(part)
    )
    b_fp: dict[str, str] = baseline.get("fingerprint") or {}
    c_fp: dict[str, str] = candidate.get("fingerprint") or {}
    diff: list[tuple[str, str, str]] = []
    if b_fp and c_fp:
        for key in sorted(set(b_fp) | set(c_fp)):
            if key in VOLATILE_KEYS:
                continue
            b, c = b_fp.get(key, "—"), c_fp.get(key, "—")
            if b != c:
                diff.append((key, b, c))
    other = any(key in MACHINE_KEYS for key, _, _ in diff)
    b_ref, c_ref = baseline.get("reference"), candidate.get("reference")
    return Drift(
        diff=tuple(diff),
        other_machine=other,
        cpu_ratio=_ratio(b_ref, c_ref, "cpu"),
        loopback_ratio=_ratio(b_ref, c_ref, "loopback"),
        missing=missing,
    )


def normalize(cells: pd.DataFrame, cpu_ratio: float) -> pd.DataFrame:
    """The candidate's table as if run on the baseline's machine (req/s ×, latencies ÷ ratio)."""
    out = cells.copy()
    rps = METRIC_COLUMNS["rps"]
    out[rps] = out[rps] * cpu_ratio
    for metric in LATENCY_METRICS:
        column = METRIC_COLUMNS[metric]
        out[column] = out[column] / cpu_ratio
    return out


def _percent(ratio: float) -> str:
    change = (ratio - 1) * 100
    return f"{change:+.1f}%"


def describe(drift: Drift) -> list[str]:
    """Notes for the reports: one line per fact, none when nothing differs."""
    notes: list[str] = []
    if drift.other_machine:
        notes.append("baseline and candidate ran on different machines")
    for key, b, c in drift.diff:
        notes.append(f"environment {key}: baseline {b} → candidate {c}")
    if drift.cpu_ratio is not None and math.isfinite(drift.cpu_ratio):
        moved = abs(drift.cpu_ratio - 1) > CPU_TOLERANCE
        if moved or drift.other_machine:
            notes.append(
                f"CPU reference {_percent(drift.cpu_ratio)} on the candidate's side "
                f"({'beyond' if moved else 'within'} ±{CPU_TOLERANCE:.0%}): the machine "
                f"{'is slower' if drift.cpu_ratio > 1 else 'is faster'} by that much"
            )
    if drift.loopback_ratio is not None and abs(drift.loopback_ratio - 1) > LOOPBACK_TOLERANCE:
        notes.append(f"loopback reference {_percent(drift.loopback_ratio)} on the candidate's side")
    return notes
