"""The SLO search converges on a simulated server of known capacity."""

from __future__ import annotations

import pytest

from bench.runner.results.search import SearchConfig, Step, judge_step, next_rate, search
from bench.runner.results.slo import Slo


def _queue_server(capacity: float, service_us: float = 2000.0):
    """An M/M/1-like server: p99 grows as load nears capacity; beyond it, it falls behind."""

    def measure(rate: float) -> Step:
        rho = rate / capacity
        if rho >= 1.0:
            return Step(rate, latency_us=5e6, error_rate=0.0, achieved_rate=capacity)
        p99 = service_us * 4.6 / (1.0 - rho)  # exponential response time: p99 = ln(100)·R
        return Step(rate, latency_us=p99, error_rate=0.0, achieved_rate=rate)

    return measure


@pytest.mark.parametrize("capacity", [350.0, 1234.0, 9000.0])
def test_converges_on_known_capacity(capacity):
    slo = Slo({"p99": 100_000.0})
    cfg = SearchConfig(start_rate=100.0, precision=0.02, max_steps=30)
    result = search(_queue_server(capacity), slo, cfg)
    # p99 ≤ 100 ms  ⇔  9.2 ms / (1 − ρ) ≤ 100 ms  ⇔  ρ ≤ 0.908
    expected = capacity * (1 - 2000.0 * 4.6 / 100_000.0)
    assert result.converged, result.reason
    assert result.capacity == pytest.approx(expected, rel=0.03)
    assert result.capacity <= expected  # never reports a failing rate as capacity


def test_every_step_recorded_and_bracketing_doubles():
    result = search(_queue_server(1000.0), Slo({"p99": 100_000.0}), SearchConfig(start_rate=100))
    rates = [s.rate for s in result.steps]
    assert rates[:4] == [100.0, 200.0, 400.0, 800.0]
    assert len(result.verdicts) == len(result.steps)


def test_fails_at_minimum_rate():
    cfg = SearchConfig(start_rate=10.0, min_rate=5.0)
    result = search(_queue_server(1.0), Slo({"p99": 100_000.0}), cfg)
    assert result.capacity is None
    assert "minimum rate" in result.reason


def test_stops_when_engine_bound():
    def measure(rate: float) -> Step:
        return Step(rate, 1000.0, 0.0, rate, engine_bound=rate >= 400)

    result = search(measure, Slo({"p99": 100_000.0}), SearchConfig(start_rate=100))
    assert "engine-bound" in result.reason
    assert not result.converged


def test_falling_behind_fails_the_step():
    slo, cfg = Slo({"p99": 1e9}), SearchConfig()
    verdict = judge_step(Step(1000, 10.0, 0.0, achieved_rate=800.0), slo, cfg)
    assert not verdict.ok and "fell behind" in verdict.reason


def test_errors_fail_the_step():
    verdict = judge_step(
        Step(100, 10.0, 0.01, 100.0), Slo({"p99": 100_000.0}, 0.001), SearchConfig()
    )
    assert not verdict.ok and "error rate" in verdict.reason


def test_first_rate_is_start_rate():
    assert next_rate([], Slo({"p99": 100_000.0}), SearchConfig(start_rate=250)) == (250, "")
