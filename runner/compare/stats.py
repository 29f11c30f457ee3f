"""Rank statistics for comparing two small sets of repetitions.

How this works: a gate compares the repetitions of one metric in the baseline (m values)
with those in the candidate (n values). Repetitions are few (3-10) and their noise is
not normal (a slow neighbour on a shared runner makes one repetition much worse), so the
tests here use ranks only:

* ``one_sided_pvalues`` — Mann-Whitney U (``scipy.stats.mannwhitneyu``), exact: the
  exact null distribution when there are no ties, an exhaustive permutation test when
  there are ties (error counts are often all 0), the normal approximation only for large
  samples. Under "nothing changed" (the repetitions of both sides are exchangeable) the
  p-value is uniform whatever the noise distribution, so the false-alarm rate is at most
  the level, even at 20 % noise.
* ``shift_interval`` — the distribution-free (Hodges-Lehmann / Moses) interval of the
  shift: an order statistic of the m·n pairwise differences, chosen from the exact null
  distribution of U. On log values it is an interval of the ratio candidate/baseline;
  its one-sided bounds are exactly the inversions of the one-sided U tests.
* ``holm_adjust`` — Holm-Bonferroni adjusted p-values over a family of gates, so that
  alpha bounds the chance that *any* gate of a comparison falsely reports a change.
* ``min_pvalue`` / ``repetitions_needed`` — with m and n repetitions U cannot go below
  ``1 / C(m+n, m)``: below that the verdict is "inconclusive, need N repetitions".

Every function takes arrays whose last axis holds the repetitions, so one call judges
thousands of synthetic trials (the gate's own statistical tests do that).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import stats as sps

#: Largest m·n for which U's exact null distribution is tabulated (else: normal approx).
EXACT_U_MAX_CELLS = 2500
#: Largest number of distinct splits enumerated by the exact permutation test (ties).
EXACT_PERMUTATIONS_MAX = 200_000
#: The largest repetition count ``repetitions_needed`` reports.
MAX_REPETITIONS_REPORTED = 100


def min_pvalue(m: int, n: int) -> float:
    """The smallest one-sided U-test p-value that m vs n repetitions can give."""
    if m < 1 or n < 1:
        return 1.0
    return 1.0 / math.comb(m + n, m)


def repetitions_needed(level: float) -> int:
    """The smallest n such that n vs n repetitions can reach a one-sided p <= ``level``."""
    for n in range(1, MAX_REPETITIONS_REPORTED + 1):
        if min_pvalue(n, n) <= level:
            return n
    return MAX_REPETITIONS_REPORTED


@lru_cache(maxsize=256)
def u_cdf(m: int, n: int) -> tuple[float, ...]:
    """P(U <= u) for u = 0..m·n under the null (no ties), exact for m·n <= EXACT_U_MAX_CELLS.

    The counts of U are the coefficients of the Gaussian binomial [m+n choose m]_q =
    prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), computed with Python integers.
    """
    size = m * n
    if size > EXACT_U_MAX_CELLS:
        mean, sd = size / 2.0, math.sqrt(m * n * (m + n + 1) / 12.0)
        return tuple(float(sps.norm.cdf((u + 0.5 - mean) / sd)) for u in range(size + 1))
    coeffs = [0] * (size + 1)
    coeffs[0] = 1
    for i in range(1, m + 1):
        # multiply by (1 - q^(n+i))
        step = n + i
        for u in range(size, step - 1, -1):
            coeffs[u] -= coeffs[u - step]
        # divide by (1 - q^i): a running sum with stride i
        for u in range(i, size + 1):
            coeffs[u] += coeffs[u - i]
    total = math.comb(m + n, m)
    running, out = 0, []
    for count in coeffs:
        running += count
        out.append(running / total)
    return tuple(out)


def _rows_have_ties(pooled: np.ndarray) -> np.ndarray:
    ordered = np.sort(pooled, axis=-1)
    return np.any(ordered[..., 1:] == ordered[..., :-1], axis=-1)


def _mwu(x: np.ndarray, y: np.ndarray, alternative: str, ties: bool) -> np.ndarray:
    """One-sided U-test p-values of x against y, row by row (2-D arrays, no NaN)."""
    m, n = x.shape[-1], y.shape[-1]
    splits = math.comb(m + n, m)
    if ties:
        if splits <= EXACT_PERMUTATIONS_MAX:
            method: object = sps.PermutationMethod(n_resamples=np.inf)
        else:
            method = "asymptotic"
    else:
        method = "exact" if m * n <= EXACT_U_MAX_CELLS else "asymptotic"
    result = sps.mannwhitneyu(x, y, alternative=alternative, method=method, axis=-1)
    return np.asarray(result.pvalue, dtype=float)


def one_sided_pvalues(baseline: np.ndarray, candidate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (p_up, p_down): U-test p-values for "candidate is larger" / "is smaller".

    ``baseline`` (..., m) and ``candidate`` (..., n) hold repetitions on the last axis,
    without NaN. Rows where every pooled value is equal get p = 1 both ways.
    """
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    lead = np.broadcast_shapes(b.shape[:-1], c.shape[:-1])
    b2 = np.broadcast_to(b, (*lead, b.shape[-1])).reshape(-1, b.shape[-1])
    c2 = np.broadcast_to(c, (*lead, c.shape[-1])).reshape(-1, c.shape[-1])
    p_up = np.ones(b2.shape[0])
    p_down = np.ones(b2.shape[0])
    pooled = np.concatenate([b2, c2], axis=-1)
    constant = np.all(pooled == pooled[:, :1], axis=-1)
    ties = _rows_have_ties(pooled)
    for has_ties in (False, True):
        rows = np.flatnonzero((ties == has_ties) & ~constant)
        if rows.size:
            p_up[rows] = _mwu(c2[rows], b2[rows], "greater", has_ties)
            p_down[rows] = _mwu(c2[rows], b2[rows], "less", has_ties)
    return p_up.reshape(lead), p_down.reshape(lead)


def shift_interval(
    baseline: np.ndarray, candidate: np.ndarray, one_sided_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """The distribution-free interval of the shift candidate − baseline.

    Each bound holds with confidence 1 − ``one_sided_level`` (together: 1 − 2·level).
    Pass log values to get an interval of log(candidate / baseline). Bounds are −inf /
    +inf when m and n are too few for that level. Arrays as in ``one_sided_pvalues``.
    """
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    m, n = b.shape[-1], c.shape[-1]
    diffs = np.sort((c[..., :, None] - b[..., None, :]).reshape(*c.shape[:-1], m * n), axis=-1)
    cdf = np.asarray(u_cdf(m, n))
    below = np.flatnonzero(cdf <= one_sided_level)
    if below.size == 0:
        shape = diffs.shape[:-1]
        return np.full(shape, -np.inf), np.full(shape, np.inf)
    k = int(below[-1])
    return diffs[..., k], diffs[..., m * n - 1 - k]


def holm_adjust(pvalues: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values along the last axis; NaN entries are not in the family.

    A gate is rejected at family-wise level alpha iff its adjusted p-value is <= alpha.
    """
    p = np.asarray(pvalues, dtype=float)
    valid = ~np.isnan(p)
    k = valid.sum(axis=-1, keepdims=True)
    order = np.argsort(np.where(valid, p, np.inf), axis=-1)
    sorted_p = np.take_along_axis(p, order, axis=-1)
    rank = np.arange(p.shape[-1])
    scaled = np.minimum(1.0, (k - rank) * sorted_p)
    scaled = np.where(np.isnan(scaled), -np.inf, scaled)
    running = np.maximum.accumulate(scaled, axis=-1)
    adjusted = np.empty_like(p)
    np.put_along_axis(adjusted, order, running, axis=-1)
    return np.where(valid, adjusted, np.nan)
