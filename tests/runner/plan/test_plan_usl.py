"""The USL fit recovers known parameters and refuses what it cannot support."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.runner.plan.usl import fit_usl, peak, usl


def _synthetic(lam: float, sigma: float, kappa: float, ns: list[int], noise: float, seed: int):
    rng = np.random.default_rng(seed)
    n = np.repeat(np.asarray(ns, dtype=float), 3)
    x = usl(n, lam, sigma, kappa) * (1.0 + rng.normal(0.0, noise, n.size))
    return n, x


def test_recovers_known_parameters_within_tolerance():
    n, x = _synthetic(1000.0, 0.05, 0.002, [1, 2, 4, 8, 16, 32, 48, 64], noise=0.02, seed=1)
    fit = fit_usl(n, x)
    assert fit.lam == pytest.approx(1000.0, rel=0.08)
    assert fit.sigma == pytest.approx(0.05, abs=0.02)
    assert fit.kappa == pytest.approx(0.002, rel=0.35)
    assert fit.n_star == pytest.approx(peak(0.05, 0.002), rel=0.2)
    assert fit.usable, fit.refusals


def test_bootstrap_intervals_cover_the_truth_mostly():
    # Percentile-bootstrap intervals from 24 points under-cover a little (about 90% for a
    # nominal 95%); with fixed seeds the outcome is deterministic.
    covered = 0
    for seed in range(8):
        n, x = _synthetic(1000.0, 0.05, 0.002, [1, 2, 4, 8, 16, 32, 48, 64], noise=0.02, seed=seed)
        lo, hi = fit_usl(n, x).ci["kappa"]
        covered += lo <= 0.002 <= hi
    assert covered >= 6


def test_peak_formula():
    assert peak(0.0, 0.01) == pytest.approx(10.0)
    assert math.isinf(peak(0.1, 0.0))


def test_refuses_too_few_points():
    n, x = _synthetic(500.0, 0.1, 0.01, [1, 2, 4], noise=0.01, seed=2)
    fit = fit_usl(n, x)
    assert not fit.usable
    assert any("distinct N" in r for r in fit.refusals)


def test_refuses_a_bad_fit():
    rng = np.random.default_rng(3)
    n = np.array([1, 2, 4, 8, 16, 32] * 2, dtype=float)
    x = rng.uniform(100, 1000, n.size)  # no structure at all
    fit = fit_usl(n, x)
    assert not fit.usable
    assert any("poor fit" in r for r in fit.refusals)


def test_refuses_extrapolating_a_far_peak():
    # Almost linear scaling measured up to N=8: the peak, if any, is far away.
    n, x = _synthetic(1000.0, 0.01, 0.00002, [1, 2, 3, 4, 6, 8], noise=0.005, seed=4)
    fit = fit_usl(n, x)
    assert not fit.usable
    assert any("extrapolation" in r for r in fit.refusals)


def test_rejects_malformed_input():
    with pytest.raises(ValueError):
        fit_usl([1], [10])
    with pytest.raises(ValueError):
        fit_usl([0, 1, 2], [1, 2, 3])
