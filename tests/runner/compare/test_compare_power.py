"""Statistical tests of the gate itself, on synthetic repetitions with known truth.

Each test runs thousands of simulated comparisons (fixed seeds) through the gate's real
decision (``bench.runner.compare.decide.evaluate``, the code ``judge`` runs) and checks:

* power: a real 10 % slowdown, 5 repetitions per side, 3 % noise, default gates → caught;
* false alarms: A/A (nothing changed) at 20 % noise → the chance that a comparison
  reports any regression stays below alpha (5 % by default, family-wise over all gates);
* too few repetitions → inconclusive with the number needed, never a pass or a fail.

The noise is multiplicative (log-normal), independent per metric — the worst case for
the family-wise level, because correlated metrics would fail together rather than apart.
"""

from __future__ import annotations

import numpy as np

from bench.runner.compare.decide import Evaluation, Outcome, evaluate
from bench.runner.scenario.gates import Gates

#: Seeds, written once so the report can quote them.
SEED_POWER = 20240601
SEED_AA_NOISY = 20240602
SEED_AA_QUIET = 20240603
SEED_AA_HEAVY = 20240604
SEED_FEW = 20240605
SEED_STRICT = 20240606

#: Typical medians per metric: req/s, latencies in µs, error rate, RSS in bytes.
TYPICAL = {
    "rps": 12_000.0,
    "p50": 2_500.0,
    "p99": 9_000.0,
    "p999": 20_000.0,
    "error_rate": 0.0,
    "rss": 60e6,
}


def simulate(
    *,
    trials: int,
    reps: int,
    noise: float,
    slowdown: float,
    seed: int,
    gates: Gates | None = None,
    cells: int = 1,
    noise_model: str = "lognormal",
) -> tuple[Evaluation, list[str]]:
    """Judge ``trials`` comparisons of ``cells`` cells; the candidate is ``slowdown`` slower.

    A slowdown of s divides req/s by 1+s and multiplies the latencies by 1+s; errors and
    memory do not change.
    """
    gates = gates or Gates()
    rng = np.random.default_rng(seed)
    metrics = list(gates.enabled()) * cells
    names = [m.name for m in metrics]
    thresholds = [gates.threshold(m.name) or 0.0 for m in metrics]
    typical = np.array([TYPICAL[n] for n in names])
    factor = np.array(
        [
            1.0
            if n in ("error_rate", "rss")
            else (1 / (1 + slowdown) if m.higher_is_better else 1 + slowdown)
            for n, m in zip(names, metrics, strict=True)
        ]
    )
    shape = (trials, len(metrics), reps)

    def draw() -> np.ndarray:
        jitter = rng.lognormal(0.0, noise, shape)
        if noise_model == "neighbour":  # 1 repetition in 5 hit by a noisy neighbour: 1.5x
            jitter = jitter * np.where(rng.random(shape) < 0.2, 1.5, 1.0)
        return jitter

    baseline = typical[None, :, None] * draw()
    candidate = (typical * factor)[None, :, None] * draw()
    return evaluate(baseline, candidate, metrics, thresholds, gates), names


def any_regression_rate(ev: Evaluation) -> float:
    """Fraction of comparisons that would exit 1."""
    return float(np.mean(np.any(ev.outcome == Outcome.REGRESSED, axis=-1)))


def test_compare_power_10pct_slowdown_5_reps_3pct_noise() -> None:
    ev, names = simulate(trials=2000, reps=5, noise=0.03, slowdown=0.10, seed=SEED_POWER)
    assert any_regression_rate(ev) >= 0.99  # measured: 1.000
    for i, name in enumerate(names):
        caught = float(np.mean(ev.outcome[:, i] == Outcome.REGRESSED))
        if name in ("rps", "p50", "p99", "p999"):
            assert caught >= 0.90, name  # measured: 0.953-0.965 per metric
        else:  # unchanged metrics are not blamed
            assert caught <= 0.01, name


def test_compare_aa_false_regressions_below_alpha_at_20pct_noise() -> None:
    gates = Gates()
    for reps, seed in ((5, SEED_AA_NOISY), (8, SEED_AA_NOISY + 1)):
        ev, _ = simulate(trials=4000, reps=reps, noise=0.20, slowdown=0.0, seed=seed)
        rate = any_regression_rate(ev)
        assert rate <= gates.alpha, (reps, rate)  # measured: 0.043 (5 reps), 0.041 (8 reps)
        assert rate > 0.0  # the level is used, not wasted on an over-cautious rule


def test_compare_aa_false_regressions_several_cells() -> None:
    ev, _ = simulate(trials=2000, reps=7, noise=0.20, slowdown=0.0, seed=SEED_AA_NOISY + 2, cells=3)
    assert any_regression_rate(ev) <= Gates().alpha  # measured: 0.036


def test_compare_aa_noisy_neighbour_outliers_do_not_fool_the_gate() -> None:
    ev, _ = simulate(
        trials=4000, reps=5, noise=0.03, slowdown=0.0, seed=SEED_AA_HEAVY, noise_model="neighbour"
    )
    assert any_regression_rate(ev) <= Gates().alpha  # measured: 0.028


def test_compare_aa_quiet_runner_almost_never_fails() -> None:
    # At 3 % noise the threshold (5 %) does most of the work: significant changes smaller
    # than the threshold are "unchanged", not regressions.
    ev, _ = simulate(trials=4000, reps=5, noise=0.03, slowdown=0.0, seed=SEED_AA_QUIET)
    assert any_regression_rate(ev) <= 0.02  # measured: 0.011


def test_compare_per_gate_level_without_correction() -> None:
    gates = Gates(correction="none", alpha=0.01)
    ev, names = simulate(
        trials=4000, reps=5, noise=0.20, slowdown=0.0, seed=SEED_AA_NOISY + 3, gates=gates
    )
    for i, name in enumerate(names):
        assert float(np.mean(ev.outcome[:, i] == Outcome.REGRESSED)) <= gates.alpha, name


def test_compare_too_few_repetitions_is_inconclusive_with_the_number_needed() -> None:
    # 3 vs 3 repetitions can reach p = 1/20 at best; over 5 testable gates (error rate is
    # constant and left out) Holm's first step needs p <= 0.01: impossible.
    ev, names = simulate(trials=200, reps=3, noise=0.03, slowdown=0.30, seed=SEED_FEW)
    assert not np.any(ev.outcome == Outcome.REGRESSED)
    moved = [i for i, n in enumerate(names) if n in ("rps", "p50", "p99", "p999")]
    assert np.all(ev.outcome[:, moved] == Outcome.INCONCLUSIVE)
    assert np.all(ev.needed == 5)
    # Three cells need one more repetition, and say so.
    ev3, _ = simulate(trials=50, reps=5, noise=0.03, slowdown=0.30, seed=SEED_FEW, cells=3)
    assert np.all(ev3.needed == 6)
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
    # rule misses a 10 % slowdown far too often.
    gates = Gates(metrics={"p50": "off", "p99": "off", "p999": "off", "rss": "off"})
    ev, names = simulate(
        trials=3000, reps=5, noise=0.03, slowdown=0.10, seed=SEED_STRICT, gates=gates
    )
    rps = names.index("rps")
    ours = float(np.mean(ev.outcome[:, rps] == Outcome.REGRESSED))
    strict = float(np.mean(ev.upper[:, rps] < -gates.threshold("rps")))  # type: ignore[operator]
    assert ours >= 0.93  # measured: 0.975
    assert strict <= 0.75  # measured: 0.635
