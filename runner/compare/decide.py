"""The gate decision for a family of gates, on arrays (pure, vectorized).

How this works: a comparison is a *family* of gates (every matched cell × every enabled
metric). For each gate we have the baseline's and the candidate's repetitions. The rule:

* **regressed** — the metric moved the wrong way by more than its threshold (ratio of
  medians, or difference for absolute metrics) *and* the one-sided Mann-Whitney U test
  in that direction is significant after Holm's correction over the whole family. So
  alpha bounds the chance that a comparison where nothing changed reports any
  regression, whatever the noise — as long as repetitions are exchangeable.
* **improved** — the same, the other way.
* **inconclusive** — too few repetitions to ever reach significance (with the number
  needed), or the median moved beyond the threshold but the test is not significant
  (the runner is too noisy to tell), or the change is undefined (a median of 0).
* **unchanged** — otherwise: the medians are within the threshold, or the change is
  significant but smaller than the threshold.

Gates that cannot be significant whatever the data (too few repetitions, or every value
on both sides identical — e.g. no errors at all) are left out of Holm's family: they
could never be rejected, and counting them would only weaken the others.

Arrays: ``baseline`` is (..., k, m) and ``candidate`` (..., k, n) — k gates, repetitions
on the last axis, NaN-padded where a gate has fewer repetitions. Leading axes are
independent comparisons (the synthetic trials of the tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from bench.runner.compare.stats import (
    holm_adjust,
    min_pvalue,
    one_sided_pvalues,
    repetitions_needed,
    shift_interval,
)
from bench.runner.scenario.gates import GateMetric, Gates

#: Relative slack when comparing a p-value to alpha (1/20 vs 0.05 in floating point).
_P_SLACK = 1e-9


class Outcome(IntEnum):
    """A gate's verdict."""

    UNCHANGED = 0
    IMPROVED = 1
    REGRESSED = 2
    INCONCLUSIVE = 3

    def __str__(self) -> str:
        return self.name.lower()


class Why(IntEnum):
    """Why a gate got its outcome (reports turn it into a sentence)."""

    SIGNIFICANT = 0  #: regressed / improved: beyond the threshold and significant
    WITHIN = 1  #: unchanged: the median moved less than the threshold
    IDENTICAL = 2  #: unchanged: every value is the same on both sides
    FEW = 3  #: inconclusive: fewer repetitions than ``min_repetitions``
    UNDERPOWERED = 4  #: inconclusive: these repetitions cannot reach the level
    NOISE = 5  #: inconclusive: moved beyond the threshold but not significantly
    UNDEFINED = 6  #: inconclusive: no change can be computed (a median of 0)


#: The outcome each reason gives when the gate is not significant.
_UNDECIDED_OUTCOME: dict[Why, Outcome] = {
    Why.WITHIN: Outcome.UNCHANGED,
    Why.IDENTICAL: Outcome.UNCHANGED,
    Why.FEW: Outcome.INCONCLUSIVE,
    Why.UNDERPOWERED: Outcome.INCONCLUSIVE,
    Why.NOISE: Outcome.INCONCLUSIVE,
    Why.UNDEFINED: Outcome.INCONCLUSIVE,
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Per-gate results of ``evaluate``; every array has the shape (..., k).

    Attributes:
        outcome: ``Outcome`` codes.
        why: ``Why`` codes.
        change: ratio of medians − 1 (relative metrics) or difference of medians
            (absolute); positive means the value went up.
        lower, upper: the (1 − 2·alpha) distribution-free interval of the change.
        baseline_median, candidate_median: medians of the repetitions.
        p_worse, p_better: Holm-adjusted (if enabled) one-sided U-test p-values for a
            change in the bad / good direction; NaN for gates outside the family.
        testable: the gate is in the family (enough repetitions, not all equal).
        n_baseline, n_candidate: repetitions used.
        family: gates in Holm's family (testable gates), shape (...).
        level: the per-gate level of Holm's first step: alpha / family size, shape (...).
        needed: repetitions per side with which every gate could reach Holm's first
            step (counting every gate whose values are not all equal), shape (...).
    """

    outcome: np.ndarray
    why: np.ndarray
    change: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    baseline_median: np.ndarray
    candidate_median: np.ndarray
    p_worse: np.ndarray
    p_better: np.ndarray
    testable: np.ndarray
    n_baseline: np.ndarray
    n_candidate: np.ndarray
    family: np.ndarray
    level: np.ndarray
    needed: np.ndarray


def _compact(rows: np.ndarray, count: int) -> np.ndarray:
    """Rows with NaN padding → (rows, count) arrays of their values (order irrelevant)."""
    return np.sort(rows, axis=-1)[:, :count]


def _transform(values: np.ndarray, absolute: np.ndarray) -> np.ndarray:
    """Values on the scale intervals are computed on: log for relative metrics."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), np.nan)
    return np.where(absolute[:, None], values, logged)


def _change(base: np.ndarray, cand: np.ndarray, absolute: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            base != 0, cand / np.where(base != 0, base, 1.0) - 1.0, np.where(cand == 0, 0.0, np.nan)
        )
    return np.where(absolute, cand - base, ratio)


@dataclass(frozen=True, slots=True)
class _GateStats:
    """Per-gate numbers before any decision (flat arrays over all gates)."""

    m: np.ndarray
    n: np.ndarray
    p_up: np.ndarray
    p_down: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    base_med: np.ndarray
    cand_med: np.ndarray
    constant: np.ndarray
    floor_p: np.ndarray


def _gate_stats(b: np.ndarray, c: np.ndarray, absolute: np.ndarray, alpha: float) -> _GateStats:
    """Medians, U-test p-values, intervals for (gates, reps) arrays with NaN padding.

    Gates are grouped by their (m, n) repetition counts so each group is one vectorized
    call (usually there is a single group).
    """
    count = b.shape[0]
    m_count = np.sum(~np.isnan(b), axis=-1)
    n_count = np.sum(~np.isnan(c), axis=-1)
    out = {name: np.full(count, np.nan) for name in ("p_up", "p_down", "lower", "upper")}
    out |= {"base_med": np.full(count, np.nan), "cand_med": np.full(count, np.nan)}
    constant = np.zeros(count, dtype=bool)
    floor_p = np.ones(count)
    tb, tc = _transform(b, absolute), _transform(c, absolute)
    for m, n in {(int(x), int(y)) for x, y in zip(m_count, n_count, strict=True)}:
        if m == 0 or n == 0:
            continue
        rows = np.flatnonzero((m_count == m) & (n_count == n))
        floor_p[rows] = min_pvalue(m, n)
        bb, cc = _compact(b[rows], m), _compact(c[rows], n)
        out["base_med"][rows] = np.median(bb, axis=-1)
        out["cand_med"][rows] = np.median(cc, axis=-1)
        pooled = np.concatenate([bb, cc], axis=-1)
        constant[rows] = np.all(pooled == pooled[:, :1], axis=-1)
        out["p_up"][rows], out["p_down"][rows] = one_sided_pvalues(bb, cc)
        with np.errstate(invalid="ignore"):
            lo, hi = shift_interval(_compact(tb[rows], m), _compact(tc[rows], n), alpha)
        out["lower"][rows], out["upper"][rows] = lo, hi
    lower = np.where(absolute, out["lower"], np.expm1(out["lower"]))
    upper = np.where(absolute, out["upper"], np.expm1(out["upper"]))
    return _GateStats(
        m=m_count,
        n=n_count,
        p_up=out["p_up"],
        p_down=out["p_down"],
        lower=lower,
        upper=upper,
        base_med=out["base_med"],
        cand_med=out["cand_med"],
        constant=constant,
        floor_p=floor_p,
    )


def _needed(prospective: np.ndarray, gates: Gates) -> np.ndarray:
    """Repetitions per side for a family of ``prospective`` gates to reach Holm's first step."""
    holm = gates.correction == "holm"
    target = gates.alpha / (np.maximum(prospective, 1) if holm else np.ones_like(prospective))
    needed = np.zeros(target.shape, dtype=int)
    for value in np.unique(target):
        needed[target == value] = max(repetitions_needed(float(value)), gates.min_repetitions)
    return needed


def evaluate(
    baseline: np.ndarray,
    candidate: np.ndarray,
    metrics: Sequence[GateMetric],
    thresholds: Sequence[float],
    gates: Gates,
) -> Evaluation:
    """Judge a family of k gates (see the module docstring for the rule and the shapes)."""
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    k = len(metrics)
    if b.shape[-2] != k or c.shape[-2] != k or len(thresholds) != k:
        raise ValueError("baseline, candidate, metrics and thresholds disagree on the gate count")
    lead = np.broadcast_shapes(b.shape[:-2], c.shape[:-2])
    b = np.broadcast_to(b, (*lead, k, b.shape[-1])).reshape(-1, b.shape[-1])
    c = np.broadcast_to(c, (*lead, k, c.shape[-1])).reshape(-1, c.shape[-1])
    families = b.shape[0] // k
    higher = np.tile(np.array([m.higher_is_better for m in metrics]), families)
    absolute = np.tile(np.array([m.absolute for m in metrics]), families)
    threshold = np.tile(np.asarray(thresholds, dtype=float), families)
    st = _gate_stats(b, c, absolute, gates.alpha)
    change = _change(st.base_med, st.cand_med, absolute)

    # The family: gates that can be significant at all.
    slack = 1 + _P_SLACK
    enough = (st.m >= gates.min_repetitions) & (st.n >= gates.min_repetitions)
    testable = enough & (st.floor_p <= gates.alpha * slack) & ~st.constant
    p_worse = np.where(testable, np.where(higher, st.p_down, st.p_up), np.nan).reshape(*lead, k)
    p_better = np.where(testable, np.where(higher, st.p_up, st.p_down), np.nan).reshape(*lead, k)
    if gates.correction == "holm":
        p_worse, p_better = holm_adjust(p_worse), holm_adjust(p_better)
    p_worse, p_better = p_worse.reshape(-1), p_better.reshape(-1)
    family = testable.reshape(*lead, k).sum(axis=-1)
    divisor = np.maximum(family, 1) if gates.correction == "holm" else np.ones_like(family)
    level = gates.alpha / divisor
    # Repetitions needed are counted for the family there would be with enough of them:
    # every gate with values that are not all equal.
    prospective = ((st.m > 0) & (st.n > 0) & ~st.constant).reshape(*lead, k).sum(axis=-1)

    # The decision.
    with np.errstate(invalid="ignore"):
        went_up, went_down = change > threshold, change < -threshold
        worse = np.where(higher, went_down, went_up)
        better = np.where(higher, went_up, went_down)
        regressed = (p_worse <= gates.alpha * slack) & worse
        improved = (p_better <= gates.alpha * slack) & better
    gate_level = np.repeat(level.reshape(-1), k)
    moved = testable & (worse | better)
    why = np.full(b.shape[0], Why.WITHIN, dtype=np.int8)
    why[moved] = Why.NOISE
    why[moved & (st.floor_p > gate_level * slack)] = Why.UNDERPOWERED
    why[np.isnan(change)] = Why.UNDEFINED
    why[enough & ~testable & ~st.constant] = Why.UNDERPOWERED
    why[enough & st.constant] = Why.IDENTICAL
    why[~enough] = Why.FEW
    why[regressed | improved] = Why.SIGNIFICANT
    outcome = np.full(b.shape[0], Outcome.UNCHANGED, dtype=np.int8)
    for reason, result in _UNDECIDED_OUTCOME.items():
        outcome[why == reason] = result
    outcome[improved] = Outcome.IMPROVED
    outcome[regressed] = Outcome.REGRESSED

    def shaped(a: np.ndarray) -> np.ndarray:
        return a.reshape(*lead, k)

    return Evaluation(
        outcome=shaped(outcome),
        why=shaped(why),
        change=shaped(change),
        lower=shaped(st.lower),
        upper=shaped(st.upper),
        baseline_median=shaped(st.base_med),
        candidate_median=shaped(st.cand_med),
        p_worse=shaped(p_worse),
        p_better=shaped(p_better),
        testable=shaped(testable),
        n_baseline=shaped(st.m),
        n_candidate=shaped(st.n),
        family=family,
        level=level,
        needed=_needed(prospective, gates),
    )
