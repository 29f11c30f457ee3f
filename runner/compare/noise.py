"""Run-to-run noise of a metric and the smallest change a gate can resolve through it.

How this works: the noise of one gate is the standard deviation of the log of its
repetitions (σ; 0.10 ≈ "10 % noise", the log-normal σ of ``bench.runner.compare.simulate``),
pooled over the two sides — each side's spread about its own median, so a real shift
between them is not counted as noise. The smallest change a gate resolves is the shift
that a one-sided test at Holm's first-step level (α / gates) detects with ``POWER``:

    d = (z[1 − level] + z[power]) · σ · sqrt(1/m + 1/n) / sqrt(3/π)

(the normal-theory formula for a shift of log values, divided by the square root of the
Mann-Whitney U test's asymptotic relative efficiency, 3/π). It is an approximation of
the simulated power (``bench.runner.compare.simulate``; a test holds the two close) that
costs nothing, so ``bench compare`` can warn for every gate and ``bench calibrate`` can
solve it for the repetitions a threshold needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from bench.runner.compare.table import split_cells
from bench.runner.scenario.gates import GATE_METRICS, Gates

#: The power the resolvable change is stated at (``bench calibrate``'s recommendations).
POWER = 0.8
#: ``bench compare`` warns when a change of the threshold's size would be caught less
#: often than this: the threshold is then inside the noise.
WARN_POWER = 0.5
#: Most repetitions ``repetitions_for`` considers.
MAX_REPETITIONS = 200
_ARE = 3 / math.pi


def log_noise(values: Sequence[float]) -> float | None:
    """σ of log(values) (sample standard deviation); None with fewer than 2 positive values."""
    logs = np.log([v for v in values if v > 0])
    if logs.size < 2:
        return None
    return float(np.std(logs, ddof=1))


def pooled_noise(baseline: Sequence[float], candidate: Sequence[float]) -> float | None:
    """σ pooled over two sides (each about its own mean); None when neither side has one."""
    parts = [(log_noise(side), len(side)) for side in (baseline, candidate)]
    usable = [(s, n) for s, n in parts if s is not None]
    if not usable:
        return None
    dof = sum(n - 1 for _, n in usable)
    return math.sqrt(sum(s * s * (n - 1) for s, n in usable) / dof)


def resolvable(noise: float, m: int, n: int, level: float, power: float = POWER) -> float:
    """The smallest relative change (0.12 = 12 %) detected with ``power`` at one-sided ``level``."""
    if m < 1 or n < 1:
        return math.inf
    z = float(sps.norm.ppf(1 - level) + sps.norm.ppf(power))
    shift = z * noise * math.sqrt(1 / m + 1 / n) / math.sqrt(_ARE)
    return math.expm1(shift)


def repetitions_for(noise: float, change: float, level: float, power: float = POWER) -> int | None:
    """Repetitions per side that resolve ``change`` at this noise (None: more than the cap)."""
    for reps in range(2, MAX_REPETITIONS + 1):
        if resolvable(noise, reps, reps, level, power) <= change:
            return reps
    return None


@dataclass(frozen=True, slots=True)
class NoisyGate:
    """A gate whose noise is larger than its threshold can resolve."""

    cell_id: str
    metric: str
    noise: float
    resolvable: float
    threshold: float
    m: int
    n: int


def noisy_gates(
    baseline: pd.DataFrame, candidate: pd.DataFrame, gates: Gates, family: int
) -> list[NoisyGate]:
    """Gates of relative metrics whose pooled noise hides a change of their threshold."""
    base, cand = split_cells(baseline), split_cells(candidate)
    level = gates.alpha / max(family, 1) if gates.correction == "holm" else gates.alpha
    out: list[NoisyGate] = []
    for cell_id, b_rows in base.items():
        c_rows = cand.get(cell_id)
        if c_rows is None:
            continue
        for metric in GATE_METRICS:
            threshold = gates.threshold(metric.name)
            if threshold is None or metric.absolute:
                continue
            b, c = b_rows.values(metric.name), c_rows.values(metric.name)
            sigma = pooled_noise(b, c)
            if sigma is None or sigma == 0:
                continue
            smallest = resolvable(sigma, len(b), len(c), level, WARN_POWER)
            if smallest > threshold:
                out.append(
                    NoisyGate(cell_id, metric.name, sigma, smallest, threshold, len(b), len(c))
                )
    return out


def noise_warnings(
    baseline: pd.DataFrame, candidate: pd.DataFrame, gates: Gates, family: int
) -> list[str]:
    """``bench compare``'s warnings: the gates whose noise exceeds what the threshold resolves."""
    return warnings(noisy_gates(baseline, candidate, gates, family))


def warnings(noisy: Sequence[NoisyGate]) -> list[str]:
    """One line per metric: how noisy, what it resolves, against which threshold."""
    lines: list[str] = []
    for metric in GATE_METRICS:
        hits = [g for g in noisy if g.metric == metric.name]
        if not hits:
            continue
        low, high = min(g.noise for g in hits), max(g.noise for g in hits)
        spread = f"{low:.0%}" if round(low, 2) == round(high, 2) else f"{low:.0%}–{high:.0%}"
        worst = max(hits, key=lambda g: g.resolvable)
        cells = "1 cell" if len(hits) == 1 else f"{len(hits)} cells"
        lines.append(
            f"warning: {metric.label} is too noisy for its {worst.threshold:.0%} threshold in "
            f"{cells}: run-to-run noise {spread}, so {worst.m} vs {worst.n} repetitions resolve "
            f"only changes ≥ {worst.resolvable:.0%} (caught half the time); add repetitions, "
            f"raise the threshold, or measure this machine with bench calibrate"
        )
    return lines
