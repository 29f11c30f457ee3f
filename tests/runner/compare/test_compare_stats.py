"""Rank statistics of the gate: exact U distribution, p-values with ties, intervals, Holm."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from bench.runner.compare.stats import (
    holm_adjust,
    min_pvalue,
    one_sided_pvalues,
    repetitions_needed,
    shift_interval,
    u_cdf,
)


def _u_counts_by_enumeration(m: int, n: int) -> list[int]:
    """Counts of U over every way to pick which m of m+n ranks are the baseline's."""
    counts = [0] * (m * n + 1)
    for picked in itertools.combinations(range(m + n), m):
        # U for the baseline: pairs (baseline, candidate) with the baseline larger.
        u = sum(1 for b in picked for c in range(m + n) if c not in picked and b > c)
        counts[u] += 1
    return counts


@pytest.mark.parametrize(("m", "n"), [(1, 1), (2, 3), (3, 3), (4, 5), (5, 5), (3, 7)])
def test_compare_u_cdf_matches_enumeration(m: int, n: int) -> None:
    counts = _u_counts_by_enumeration(m, n)
    total = math.comb(m + n, m)
    expected = np.cumsum(counts) / total
    assert np.allclose(u_cdf(m, n), expected)


def test_compare_min_pvalue_and_repetitions_needed() -> None:
    assert min_pvalue(5, 5) == pytest.approx(1 / 252)
    assert min_pvalue(3, 3) == pytest.approx(1 / 20)
    assert min_pvalue(0, 5) == 1.0
    assert repetitions_needed(0.05) == 3  # 1/20
    assert repetitions_needed(0.05 / 6) == 5  # 1/252 <= 0.0083 < 1/70
    assert repetitions_needed(0.05 / 15) == 6  # 1/924 <= 0.0033 < 1/252


def test_compare_pvalues_complete_separation_is_the_minimum() -> None:
    base = np.array([100.0, 101, 102, 103, 104])
    cand = base + 50
    p_up, p_down = one_sided_pvalues(base, cand)
    assert float(p_up) == pytest.approx(1 / 252)
    assert float(p_down) == pytest.approx(1.0)


def test_compare_pvalues_are_vectorized_rowwise() -> None:
    rng = np.random.default_rng(11)
    base = rng.normal(size=(40, 5))
    cand = rng.normal(size=(40, 5)) + np.linspace(-2, 2, 40)[:, None]
    p_up, _ = one_sided_pvalues(base, cand)
    single = [float(one_sided_pvalues(base[i], cand[i])[0]) for i in range(40)]
    assert np.allclose(p_up, single)


def test_compare_pvalues_with_ties_are_exact_permutation_values() -> None:
    # Errors: baseline 0,0,0,0,1 ; candidate 0,0,1,1,1. Enumerate all 252 splits by hand.
    base = np.array([0.0, 0, 0, 0, 1])
    cand = np.array([0.0, 0, 1, 1, 1])
    pooled = np.concatenate([base, cand])
    observed = cand.sum()
    splits = list(itertools.combinations(range(10), 5))
    as_extreme = sum(1 for s in splits if pooled[list(s)].sum() >= observed)
    p_up, _ = one_sided_pvalues(base, cand)
    assert float(p_up) == pytest.approx(as_extreme / len(splits))


def test_compare_pvalues_constant_data_is_one() -> None:
    zeros = np.zeros(5)
    p_up, p_down = one_sided_pvalues(zeros, zeros)
    assert float(p_up) == 1.0 and float(p_down) == 1.0


def test_compare_shift_interval_is_the_inversion_of_the_test() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(size=(500, 5))
    cand = rng.normal(size=(500, 5)) + 1.0
    level = 0.05
    lower, upper = shift_interval(base, cand, level)
    p_up, p_down = one_sided_pvalues(base, cand)
    assert np.array_equal(lower > 0, p_up <= level)
    assert np.array_equal(upper < 0, p_down <= level)
    assert np.all(lower <= upper)


def test_compare_shift_interval_covers_the_true_shift() -> None:
    trials = 4000
    rng = np.random.default_rng(6)
    base = rng.normal(size=(trials, 6))
    cand = rng.normal(size=(trials, 6)) + 0.7
    lower, upper = shift_interval(base, cand, 0.05)
    # Each bound misses with exactly P(U <= k), the largest such level <= 0.05.
    exact = max(p for p in u_cdf(6, 6) if p <= 0.05)
    sigma = math.sqrt(exact * (1 - exact) / trials)
    for missed in (np.mean(lower > 0.7), np.mean(upper < 0.7)):
        assert abs(float(missed) - exact) < 4 * sigma


def test_compare_shift_interval_unbounded_when_too_few() -> None:
    lower, upper = shift_interval(np.array([1.0, 2.0]), np.array([3.0, 4.0]), 0.05)
    assert float(lower) == -np.inf and float(upper) == np.inf


def test_compare_holm_adjust() -> None:
    p = np.array([[0.01, 0.04, np.nan, 0.03], [0.2, 0.001, 0.5, np.nan]])
    adjusted = holm_adjust(p)
    assert np.allclose(adjusted[0], [0.03, 0.06, np.nan, 0.06], equal_nan=True)
    assert np.allclose(adjusted[1], [0.4, 0.003, 0.5, np.nan], equal_nan=True)
