"""Calibration: this machine's run-to-run noise and what a gate needs here (pure).

How this works: ``bench calibrate`` runs a scenario with many repetitions of the same
code (an A/A run) and hands its cells table here. For every cell × relative gate metric,
``calibrate`` measures the noise (σ of log values over the repetitions,
``bench.runner.compare.noise``) and answers, for the family of gates ``bench compare`` would
judge (α / gates at Holm's first step):

* with the scenario's repetitions per side, the smallest change a gate catches with the
  stated power — the threshold this machine supports;
* with the gate's threshold, the repetitions per side it needs for that power.

It also judges the run against itself — even repetitions against odd ones, through the
real ``judge`` — as one real A/A comparison: a gate that fails it cries wolf here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from bench.runner.compare.judge import Summary, Verdict, judge, summarize
from bench.runner.compare.noise import POWER, log_noise, repetitions_for, resolvable
from bench.runner.compare.table import REPETITION, describe_cell, split_cells
from bench.runner.errors import UsageError
from bench.runner.scenario.gates import GATE_METRICS, Gates


@dataclass(frozen=True, slots=True)
class MetricNoise:
    """One cell × metric on this machine."""

    cell: str
    metric: str
    label: str
    noise: float  #: σ of log values (0.05 ≈ 5 %)
    repetitions: int  #: measured repetitions the noise comes from
    threshold: float  #: the gate's threshold
    smallest: float  #: smallest change caught with ``power`` at ``per_side`` repetitions
    needed: int | None  #: repetitions per side for the threshold (None: > the cap)


@dataclass(frozen=True, slots=True)
class Calibration:
    """Everything ``bench calibrate`` reports."""

    metrics: tuple[MetricNoise, ...]
    per_side: int  #: repetitions per side the figures assume (the scenario's repeat)
    family: int  #: gates in the family
    level: float  #: Holm's first-step level: alpha / family
    power: float
    aa_verdicts: tuple[Verdict, ...]
    aa_summary: Summary | None

    def worst(self) -> MetricNoise | None:
        """The gate that needs the most (largest smallest-detectable change)."""
        return max(self.metrics, key=lambda m: m.smallest, default=None)


def calibrate(
    cells: pd.DataFrame, gates: Gates, *, per_side: int, power: float = POWER
) -> Calibration:
    """Noise per cell × metric and what a gate needs (see the module docstring).

    Raises:
        UsageError: no cell has two measured repetitions (no noise to measure).
    """
    by_cell = split_cells(cells)
    rows: list[tuple[str, str, str, float, int, float]] = []
    for rows_of_cell in by_cell.values():
        if len(rows_of_cell.measured) < 2:
            continue
        label = describe_cell(rows_of_cell.measured.iloc[0].to_dict())
        for metric in GATE_METRICS:
            threshold = gates.threshold(metric.name)
            if threshold is None or metric.absolute:
                continue
            values = rows_of_cell.values(metric.name)
            sigma = log_noise(values)
            if sigma is None:
                continue
            rows.append((label, metric.name, metric.label, sigma, len(values), threshold))
    if not rows:
        raise UsageError("no cell has two measured repetitions: no noise to measure")
    family = sum(1 for r in rows if r[3] > 0)
    level = gates.alpha / max(family, 1) if gates.correction == "holm" else gates.alpha
    metrics = tuple(
        MetricNoise(
            cell=label,
            metric=name,
            label=text,
            noise=sigma,
            repetitions=count,
            threshold=threshold,
            smallest=resolvable(sigma, per_side, per_side, level, power) if sigma > 0 else 0.0,
            needed=repetitions_for(sigma, threshold, level, power) if sigma > 0 else 2,
        )
        for label, name, text, sigma, count, threshold in rows
    )
    verdicts, summary = _self_comparison(cells, gates)
    return Calibration(metrics, per_side, family, level, power, verdicts, summary)


def _self_comparison(
    cells: pd.DataFrame, gates: Gates
) -> tuple[tuple[Verdict, ...], Summary | None]:
    """Even repetitions against odd ones: a real A/A comparison (None with < 2 per half)."""
    reps = pd.to_numeric(cells[REPETITION], errors="coerce")
    even, odd = cells[reps % 2 == 0], cells[reps % 2 == 1]
    if even.empty or odd.empty:
        return (), None
    verdicts = judge(even, odd, gates)
    return tuple(verdicts), summarize(verdicts, gates, allow_inconclusive=True)


def split_false_alarms(
    cells: pd.DataFrame, gates: Gates, *, splits: int = 200, seed: int = 0
) -> tuple[float, int]:
    """Real A/A false alarms: random halves of the repetitions judged against each other.

    Each split assigns half of the repetitions (the same ones in every cell) to a
    "baseline" and the rest to a "candidate" and runs the real ``judge``. Returns the
    share of splits that report a regression, and the number of splits. The splits
    share repetitions, so they are not independent comparisons: a rate, not a bound.
    """
    import numpy as np

    reps = sorted(int(r) for r in pd.to_numeric(cells[REPETITION]).dropna().unique())
    if len(reps) < 4:
        return 0.0, 0
    rng = np.random.default_rng(seed)
    column = pd.to_numeric(cells[REPETITION])
    alarms = 0
    for _ in range(splits):
        half = set(rng.permutation(reps)[: len(reps) // 2].tolist())
        chosen = column.isin(half)
        verdicts = judge(cells[chosen], cells[~chosen], gates)
        alarms += summarize(verdicts, gates).counts["regressed"] > 0
    return alarms / splits, splits


def recommendation(cal: Calibration) -> str:
    """One sentence: the threshold and repetitions a gate needs on this machine."""
    worst = cal.worst()
    if worst is None:
        return "nothing measured"
    needed = [m.needed for m in cal.metrics]
    most = None if any(n is None for n in needed) else max(n for n in needed if n is not None)
    reps = (
        f"{most} repetitions per side" if most is not None else "more repetitions than is practical"
    )
    return (
        f"with {cal.per_side} repetitions per side a gate here catches changes of "
        f"{_pct(worst.smallest)} or more ({worst.label} of {worst.cell} is the noisiest, "
        f"σ {_pct(worst.noise)}) in {cal.power:.0%} of comparisons; for the thresholds set "
        f"({_pct(worst.threshold)}) it needs {reps}; false alarms stay under "
        f"{cal.level * cal.family:.1%} either way"
    )


def _pct(value: float) -> str:
    if not math.isfinite(value):
        return "∞"
    return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"
