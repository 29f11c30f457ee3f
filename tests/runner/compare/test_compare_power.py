"""Statistical tests of the gate itself, on synthetic repetitions with known truth.

Each test runs thousands of simulated comparisons (fixed seeds, ``bench.runner.compare.simulate``)
through the gate's real decision (``bench.runner.compare.decide.evaluate``, the code ``judge``
runs) and checks:

* power: a real 10 % slowdown, 6 repetitions per side, 3 % noise, default gates → caught;
* false alarms: A/A (nothing changed) at 3, 10 and 20 % noise → the chance that a
  comparison reports any regression stays below 1 % (alpha = 0.008 by default,
  family-wise over all gates); the old default (0.05) did not;
* too few repetitions → inconclusive with the number needed, never a pass or a fail.

The noise is multiplicative (log-normal), independent per metric — the worst case for
the family-wise level, because correlated metrics would fail together rather than apart.
"""

from __future__ import annotations

import numpy as np

from bench.runner.compare.decide import Outcome
from bench.runner.compare.simulate import (
    any_regression_rate,
    figure,
    markdown,
    power_table,
    repetitions_for,
    simulate,
    smallest_detectable,
)
from bench.runner.scenario.gates import Gates

#: Seeds, written once so the report can quote them.
SEED_POWER = 20240601
SEED_AA_NOISY = 20240602
SEED_AA_QUIET = 20240603
SEED_AA_HEAVY = 20240604
SEED_FEW = 20240605
SEED_STRICT = 20240606


def test_compare_power_10pct_slowdown_6_reps_3pct_noise() -> None:
    ev, names = simulate(trials=2000, reps=6, noise=0.03, slowdown=0.10, seed=SEED_POWER)
    assert any_regression_rate(ev) >= 0.99  # measured: 0.996
    for i, name in enumerate(names):
        caught = float(np.mean(ev.outcome[:, i] == Outcome.REGRESSED))
        if name in ("rps", "p50", "p99", "p999"):
            assert caught >= 0.83, name  # measured: 0.859-0.873 per metric
        else:  # unchanged metrics are not blamed
            assert caught <= 0.01, name


def test_compare_aa_false_alarms_below_1pct_at_every_noise_level() -> None:
    for reps in (8, 15):
        for noise in (0.03, 0.10, 0.20):
            ev, _ = simulate(
                trials=4000, reps=reps, noise=noise, slowdown=0.0, seed=SEED_AA_NOISY + reps
            )
            rate = any_regression_rate(ev)
            assert rate < 0.01, (reps, noise, rate)  # measured: 0.000-0.0068


def test_compare_old_default_alpha_cried_wolf_on_noisy_runners() -> None:
    # The figures behind the change of default: alpha = 0.05 gave 4 % false alarms at
    # 10-20 % noise; the threshold alone cannot help once the noise exceeds it.
    old = Gates(alpha=0.05)
    for noise in (0.10, 0.20):
        ev, _ = simulate(
            trials=4000, reps=8, noise=noise, slowdown=0.0, seed=SEED_AA_NOISY + 8, gates=old
        )
        assert any_regression_rate(ev) > 0.02  # measured: 0.0375


def test_compare_aa_false_regressions_several_cells() -> None:
    ev, _ = simulate(trials=2000, reps=8, noise=0.20, slowdown=0.0, seed=SEED_AA_NOISY + 2, cells=3)
    assert any_regression_rate(ev) < 0.01  # measured: 0.005


def test_compare_aa_noisy_neighbour_outliers_do_not_fool_the_gate() -> None:
    ev, _ = simulate(
        trials=4000, reps=6, noise=0.03, slowdown=0.0, seed=SEED_AA_HEAVY, noise_model="neighbour"
    )
    assert any_regression_rate(ev) < 0.01  # measured: 0.004


def test_compare_aa_quiet_runner_almost_never_fails() -> None:
    # At 3 % noise the threshold (5 %) does most of the work: significant changes smaller
    # than the threshold are "unchanged", not regressions.
    ev, _ = simulate(trials=4000, reps=6, noise=0.03, slowdown=0.0, seed=SEED_AA_QUIET)
    assert any_regression_rate(ev) <= 0.005  # measured: 0.00175


def test_compare_table_and_calibration_answers() -> None:
    gates = Gates()
    table = power_table(gates, noise_levels=(0.03, 0.20), repetitions=(6, 15), trials=500)
    assert [(f.noise, f.reps) for f in table] == [(0.03, 6), (0.03, 15), (0.2, 6), (0.2, 15)]
    assert all(f.false_alarms < 0.02 for f in table)
    quiet, noisy = table[0], table[2]
    assert quiet.power > 0.95 > noisy.power  # 10 % is easy at 3 % noise, hard at 20 %
    text = markdown(power_table(Gates(alpha=0.05), noise_levels=(0.03,), repetitions=(6,)), table)
    assert text.splitlines()[0] == "| noise | 6 reps | 15 reps |"
    assert "→ **" in text.splitlines()[2]  # before → after where both are known
    # More noise needs a larger threshold or more repetitions; never less.
    small, large = smallest_detectable(0.03, 10, gates), smallest_detectable(0.10, 10, gates)
    assert small is not None and large is not None and small < large
    assert 0.03 <= small <= 0.10  # measured: 0.06 (10 % noise: 0.16)
    few, many = repetitions_for(0.03, 0.10, gates), repetitions_for(0.10, 0.10, gates)
    assert few is not None and many is not None and few < many  # measured: 6, 21
    assert figure(0.2, 5, gates, trials=200).power == 0.0  # 5 vs 5 cannot reach alpha/5


def test_compare_per_gate_level_without_correction() -> None:
    gates = Gates(correction="none", alpha=0.01)
    ev, names = simulate(
        trials=4000, reps=5, noise=0.20, slowdown=0.0, seed=SEED_AA_NOISY + 3, gates=gates
    )
    for i, name in enumerate(names):
        assert float(np.mean(ev.outcome[:, i] == Outcome.REGRESSED)) <= gates.alpha, name


def test_compare_too_few_repetitions_is_inconclusive_with_the_number_needed() -> None:
    # 3 vs 3 repetitions can reach p = 1/20 at best; over 5 testable gates (error rate is
    # constant and left out) Holm's first step needs p <= 0.0016: impossible.
    ev, names = simulate(trials=200, reps=3, noise=0.03, slowdown=0.30, seed=SEED_FEW)
    assert not np.any(ev.outcome == Outcome.REGRESSED)
    moved = [i for i, n in enumerate(names) if n in ("rps", "p50", "p99", "p999")]
    assert np.all(ev.outcome[:, moved] == Outcome.INCONCLUSIVE)
    assert np.all(ev.needed == 6)
    # Three cells need one more repetition, and say so.
    ev3, _ = simulate(trials=50, reps=6, noise=0.03, slowdown=0.30, seed=SEED_FEW, cells=3)
    assert np.all(ev3.needed == 7)
    assert not np.any(ev3.outcome == Outcome.REGRESSED)


def test_compare_unchanged_errors_stay_unchanged() -> None:
    ev, names = simulate(trials=100, reps=5, noise=0.03, slowdown=0.10, seed=SEED_FEW)
    errors = names.index("error_rate")
    assert np.all(ev.outcome[:, errors] == Outcome.UNCHANGED)
    assert not np.any(ev.testable[:, errors])  # all-zero gates are left out of the family


def test_compare_threshold_on_the_estimate_beats_an_interval_beyond_the_threshold() -> None:
    # Why the rule is "median change beyond the threshold AND significant" rather than
    # "the interval of the change lies entirely beyond the threshold" (the strict reading
    # of "a bootstrap interval that excludes 1 + threshold"): with 5 repetitions the strict
    # rule misses a 10 % slowdown far too often (one gate: 5 repetitions reach alpha).
    gates = Gates(metrics={"p50": "off", "p99": "off", "p999": "off", "rss": "off"})
    ev, names = simulate(
        trials=3000, reps=5, noise=0.03, slowdown=0.10, seed=SEED_STRICT, gates=gates
    )
    rps = names.index("rps")
    ours = float(np.mean(ev.outcome[:, rps] == Outcome.REGRESSED))
    strict = float(np.mean(ev.upper[:, rps] < -gates.threshold("rps")))  # type: ignore[operator]
    assert ours >= 0.88  # measured: 0.912
    assert strict <= 0.5  # measured: 0.273
