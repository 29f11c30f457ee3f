"""Run-to-run noise, the smallest change a gate resolves, and compare's warning."""

from __future__ import annotations

import math

import numpy as np
import pytest
from compare_testkit import rows

from bench.runner.compare.decide import Outcome
from bench.runner.compare.noise import (
    log_noise,
    noise_warnings,
    noisy_gates,
    pooled_noise,
    repetitions_for,
    resolvable,
)
from bench.runner.compare.simulate import simulate
from bench.runner.scenario.gates import Gates


def test_compare_noise_is_the_spread_of_log_values() -> None:
    rng = np.random.default_rng(7)
    values = list(rng.lognormal(0, 0.1, 4000))
    assert log_noise(values) == pytest.approx(0.1, rel=0.05)
    assert log_noise([5.0]) is None and log_noise([0.0, 0.0]) is None
    # A shift between the sides is not noise: each side is measured about its own mean.
    assert pooled_noise([100, 100, 100], [150, 150, 150]) == 0.0
    assert pooled_noise([1.0], [2.0]) is None


def test_compare_resolvable_change_grows_with_noise_and_shrinks_with_repetitions() -> None:
    level = 0.008 / 5
    assert resolvable(0.10, 10, 10, level) > resolvable(0.03, 10, 10, level)
    assert resolvable(0.10, 20, 20, level) < resolvable(0.10, 10, 10, level)
    assert resolvable(0.1, 0, 5, level) == math.inf
    reps = repetitions_for(0.10, 0.10, level)
    assert reps is not None
    assert resolvable(0.10, reps, reps, level) <= 0.10 < resolvable(0.10, reps - 1, reps - 1, level)
    assert repetitions_for(0.5, 0.01, level) is None  # beyond the cap


def test_compare_resolvable_agrees_with_the_simulated_gate() -> None:
    # One gate (req/s only), 10 vs 10 repetitions at 10 % noise: the formula's change is
    # caught in about 80 % of simulated comparisons.
    gates = Gates(metrics={"p50": "off", "p99": "off", "p999": "off", "rss": "off"})
    change = resolvable(0.10, 10, 10, gates.alpha)
    ev, names = simulate(trials=2000, reps=10, noise=0.10, slowdown=change, seed=11, gates=gates)
    caught = float(np.mean(ev.outcome[:, names.index("rps")] == Outcome.REGRESSED))
    assert 0.65 <= caught <= 0.92  # measured: 0.80


def test_compare_warns_when_noise_hides_the_threshold() -> None:
    gates = Gates()
    quiet = noisy_gates(rows(seed=1, noise=0.01), rows(seed=2, noise=0.01), gates, family=10)
    assert quiet == []
    noisy = noisy_gates(rows(seed=1, noise=0.25), rows(seed=2, noise=0.25), gates, family=10)
    assert {g.metric for g in noisy} == {"rps", "p50", "p99", "p999", "rss"}
    assert all(g.resolvable > g.threshold == 0.05 for g in noisy)
    lines = noise_warnings(rows(seed=1, noise=0.25), rows(seed=2, noise=0.25), gates, 10)
    assert len(lines) == 5  # one per metric, not one per cell
    assert lines[0].startswith("warning: req/s is too noisy for its 5% threshold in 2 cells")
    assert "bench calibrate" in lines[0]
