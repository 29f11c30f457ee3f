"""The gate on synthetic repetitions with known truth: false-alarm rate and power.

How this works: ``simulate`` draws ``trials`` comparisons of baseline and candidate
repetitions (log-normal noise, independent per metric — the worst case for a family of
gates) where the candidate is ``slowdown`` slower (0: an A/A comparison), and judges
them all at once with the gate's real decision (``bench.runner.compare.decide.evaluate``, the
code ``bench compare`` runs). ``any_regression_rate`` is the share of comparisons that
would exit 1: the false-alarm rate on A/A, the power on a real slowdown.

``power_table`` builds the table of ``docs/ci.md`` (noise × repetitions, before and after
a change of defaults); ``smallest_detectable`` and ``repetitions_for`` answer what
``bench calibrate`` asks: with this machine's noise, which threshold and how many
repetitions give a gate a stated false-alarm rate and power. Fixed seeds: every figure
can be reproduced (``python -m bench.runner.compare.simulate`` prints the table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.runner.compare.decide import Evaluation, Outcome, evaluate
from bench.runner.scenario.gates import Gates

#: Typical medians per metric: req/s, latencies in µs, error rate, RSS in bytes.
TYPICAL: dict[str, float] = {
    "rps": 12_000.0,
    "p50": 2_500.0,
    "p99": 9_000.0,
    "p999": 20_000.0,
    "error_rate": 0.0,
    "rss": 60e6,
}
#: The noise levels (log-normal sigma) the table of docs/ci.md shows.
NOISE_LEVELS: tuple[float, ...] = (0.03, 0.10, 0.20)
#: The repetition counts the table shows.
REPETITIONS: tuple[int, ...] = (5, 6, 8, 10, 15, 20)
#: The slowdown whose power the table states.
TABLE_SLOWDOWN = 0.10
#: The seed of the table (each cell of it derives its own from this one).
TABLE_SEED = 20251207


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
    memory do not change. ``noise_model="neighbour"`` makes 1 repetition in 5 1.5× slower
    (a noisy neighbour) on top of the log-normal noise. Returns the evaluation (leading
    axis: trials) and the metric name of each gate.
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
        if noise_model == "neighbour":
            jitter = jitter * np.where(rng.random(shape) < 0.2, 1.5, 1.0)
        return jitter

    baseline = typical[None, :, None] * draw()
    candidate = (typical * factor)[None, :, None] * draw()
    return evaluate(baseline, candidate, metrics, thresholds, gates), names


def any_regression_rate(ev: Evaluation) -> float:
    """Fraction of comparisons that would exit 1 (some gate regressed)."""
    return float(np.mean(np.any(ev.outcome == Outcome.REGRESSED, axis=-1)))


@dataclass(frozen=True, slots=True)
class Figure:
    """One cell of the table: a noise level and a repetition count under some gates."""

    noise: float
    reps: int
    false_alarms: float  #: A/A comparisons that report a regression
    power: float  #: comparisons with a real ``TABLE_SLOWDOWN`` that report one


def figure(
    noise: float, reps: int, gates: Gates, *, trials: int = 2000, seed: int = TABLE_SEED
) -> Figure:
    """False alarms and power of ``gates`` at ``noise`` with ``reps`` repetitions per side."""
    offset = int(noise * 1000) * 100 + reps
    aa, _ = simulate(
        trials=trials, reps=reps, noise=noise, slowdown=0.0, seed=seed + offset, gates=gates
    )
    ab, _ = simulate(
        trials=trials, reps=reps, noise=noise, slowdown=TABLE_SLOWDOWN, seed=seed + offset + 1,
        gates=gates,
    )  # fmt: skip
    return Figure(noise, reps, any_regression_rate(aa), any_regression_rate(ab))


def power_table(
    gates: Gates,
    *,
    noise_levels: Sequence[float] = NOISE_LEVELS,
    repetitions: Sequence[int] = REPETITIONS,
    trials: int = 2000,
) -> list[Figure]:
    """Every noise level × repetition count under ``gates``."""
    return [figure(s, r, gates, trials=trials) for s in noise_levels for r in repetitions]


def smallest_detectable(
    noise: float,
    reps: int,
    gates: Gates,
    *,
    power: float = 0.9,
    trials: int = 400,
    seed: int = TABLE_SEED,
) -> float | None:
    """The smallest slowdown (1 % steps up to 100 %) caught with ``power`` at this noise.

    None when even a 100 % slowdown is not caught that often (too few repetitions).
    """
    low, high = 0, 100  # in percent: caught(high) is tested last
    if _caught(noise, reps, 1.0, gates, trials, seed) < power:
        return None
    while high - low > 1:
        mid = (low + high) // 2
        if _caught(noise, reps, mid / 100, gates, trials, seed) >= power:
            high = mid
        else:
            low = mid
    return high / 100


def _caught(
    noise: float, reps: int, slowdown: float, gates: Gates, trials: int, seed: int
) -> float:
    ev, _ = simulate(
        trials=trials, reps=reps, noise=noise, slowdown=slowdown, seed=seed, gates=gates
    )
    return any_regression_rate(ev)


def repetitions_for(
    noise: float,
    slowdown: float,
    gates: Gates,
    *,
    power: float = 0.9,
    max_reps: int = 40,
    trials: int = 400,
    seed: int = TABLE_SEED,
) -> int | None:
    """The fewest repetitions per side that catch ``slowdown`` with ``power`` (None: > max)."""
    for reps in range(max(3, gates.min_repetitions), max_reps + 1):
        if _caught(noise, reps, slowdown, gates, trials, seed) >= power:
            return reps
    return None


def markdown(before: Sequence[Figure], after: Sequence[Figure]) -> str:
    """The docs/ci.md table: false alarms / power of a 10 % slowdown, before → after."""
    reps = sorted({f.reps for f in after})
    rows = [
        "| noise | " + " | ".join(f"{r} reps" for r in reps) + " |",
        "|---|" + "---|" * len(reps),
    ]
    old = {(f.noise, f.reps): f for f in before}
    for noise in sorted({f.noise for f in after}):
        cells = []
        for r in reps:
            new = next(f for f in after if f.noise == noise and f.reps == r)
            prev = old.get((noise, r))
            was = f"{prev.false_alarms:.1%} / {prev.power:.0%} → " if prev is not None else ""
            cells.append(f"{was}**{new.false_alarms:.1%} / {new.power:.0%}**")
        rows.append(f"| {noise:.0%} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


#: Comparisons per figure of the docs/ci.md table (Monte Carlo error about ±0.1 pp at 1 %).
DOCS_TRIALS = 10_000


def main() -> None:
    """Print the table: the old defaults (α = 0.05) beside the current ones."""
    old = Gates(alpha=0.05, max_regression=0.05)
    print(markdown(power_table(old, trials=DOCS_TRIALS), power_table(Gates(), trials=DOCS_TRIALS)))


if __name__ == "__main__":
    main()
