"""The SLO search: the highest open-loop arrival rate a server configuration sustains.

Bracketing, then bisection. Start at a rate; while it meets the SLO, multiply it by
``growth``; the first failing rate closes the bracket [highest pass, lowest fail], which
is then halved until its width is within ``precision`` of the passing rate. Every step
is a real measured window (the runner's job); this module only decides which rate
comes next and when to stop, from the steps so far — a pure function, tested with a
simulated server.

A step meets the SLO when its latency percentile is within the limit, its error rate
within the limit, and the server kept up with the schedule (achieved ≥
``min_achieved`` × target): an open-loop run that fell behind has failed, whatever its
percentiles say. An engine-bound step ends the search: beyond it the number would be
the engine's, not the server's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.runner.results.slo import Slo


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """How the search moves: start, growth while bracketing, bounds, precision, step cap."""

    start_rate: float = 100.0
    growth: float = 2.0
    min_rate: float = 1.0
    max_rate: float = 1_000_000.0
    precision: float = 0.05
    max_steps: int = 14
    min_achieved: float = 0.95


@dataclass(frozen=True, slots=True)
class Step:
    """One measured window of the search."""

    rate: float
    latency_us: float
    error_rate: float
    achieved_rate: float
    engine_bound: bool = False
    #: The server fell behind the rate (``bench.runner.results.overload``): never capacity.
    overloaded: bool = False
    overload_reason: str = ""


@dataclass(frozen=True, slots=True)
class StepVerdict:
    """Whether a step met the SLO, and why not."""

    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The outcome: ``capacity`` is the highest passing rate (``None`` if none passed)."""

    capacity: float | None
    steps: tuple[Step, ...]
    converged: bool
    reason: str
    verdicts: tuple[StepVerdict, ...] = field(default=())


def judge_step(step: Step, slo: Slo, cfg: SearchConfig) -> StepVerdict:
    """Decide whether one measured step meets the SLO."""
    if step.achieved_rate < cfg.min_achieved * step.rate:
        return StepVerdict(False, f"fell behind: {step.achieved_rate:.0f}/s of {step.rate:.0f}/s")
    if step.overloaded:
        return StepVerdict(False, f"overloaded: {step.overload_reason or 'the server fell behind'}")
    if step.error_rate > slo.error_limit:
        return StepVerdict(False, f"error rate {step.error_rate:.2%} > {slo.error_limit:.2%}")
    if step.latency_us > slo.limit_us:
        return StepVerdict(
            False,
            f"{slo.percentile} {step.latency_us / 1000:.1f} ms > {slo.limit_us / 1000:.1f} ms",
        )
    return StepVerdict(True)


def next_rate(steps: list[Step], slo: Slo, cfg: SearchConfig) -> tuple[float | None, str]:
    """The next rate to measure, or ``(None, why the search stops)``."""
    if not steps:
        return min(max(cfg.start_rate, cfg.min_rate), cfg.max_rate), ""
    if len(steps) >= cfg.max_steps:
        return None, f"stopped after {cfg.max_steps} steps"
    if steps[-1].engine_bound:
        return None, "engine-bound: the load generator, not the server, was saturated"
    verdicts = [judge_step(s, slo, cfg) for s in steps]
    passed = [s.rate for s, v in zip(steps, verdicts, strict=True) if v.ok]
    failed = [s.rate for s, v in zip(steps, verdicts, strict=True) if not v.ok]
    lo = max(passed) if passed else None
    above = [r for r in failed if lo is None or r > lo]
    hi = min(above) if above else None
    if hi is None:
        assert lo is not None
        if lo >= cfg.max_rate:
            return None, f"met the SLO at the maximum rate searched ({cfg.max_rate:g}/s)"
        return min(lo * cfg.growth, cfg.max_rate), ""
    if lo is None:
        if hi <= cfg.min_rate:
            return None, f"failed the SLO even at the minimum rate ({cfg.min_rate:g}/s)"
        return max(hi / cfg.growth, cfg.min_rate), ""
    if (hi - lo) <= cfg.precision * lo:
        return None, f"converged: within {cfg.precision:.0%}"
    return (lo + hi) / 2.0, ""


def search(measure: Callable[[float], Step], slo: Slo, cfg: SearchConfig) -> SearchResult:
    """Run the search, calling ``measure(rate)`` for each step (a real measured window)."""
    steps: list[Step] = []
    while True:
        rate, reason = next_rate(steps, slo, cfg)
        if rate is None:
            break
        steps.append(measure(rate))
    verdicts = tuple(judge_step(s, slo, cfg) for s in steps)
    passed = [s.rate for s, v in zip(steps, verdicts, strict=True) if v.ok]
    return SearchResult(
        capacity=max(passed) if passed else None,
        steps=tuple(steps),
        converged=reason.startswith("converged"),
        reason=reason,
        verdicts=verdicts,
    )
