"""Known answers: a test server with controlled latency, and what the engine must report.

Tolerances are generous (shared, noisy 2-core machines) but each assertion fails if the
engine measured the wrong thing: a wrong clock start, a lost tail, an averaged
percentile, coordinated omission in open loop.
"""

from __future__ import annotations

import pytest

from bench.runner.engines.native import run
from bench.runner.engines.native.merge import littles_law_ratio
from bench.runner.engines.native.testing import Behaviour, serve
from bench.runner.loadspec import LoadSpec
from bench.runner.results.histogram import Histogram

MS = 1000.0  # µs per ms


def hist(result) -> Histogram:  # type: ignore[no-untyped-def]
    return Histogram.from_pairs(result.histogram)


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_every_request_delayed_d_gives_p50_near_d(mode: str) -> None:
    delay_ms = 20.0
    with serve(Behaviour(delay_ms=delay_ms)) as url:
        spec = LoadSpec(url=url + "/", mode=mode, connections=8, rate=150.0, duration_s=1.5)
        result = run(spec)
    assert result.error_count == 0
    assert result.requests > 100
    p50_ms = result.latency_us["p50"] / MS
    assert delay_ms * 0.6 - 2 <= p50_ms <= delay_ms * 1.4 + 2
    assert result.latency_us["min"] >= delay_ms * MS * 0.95  # nothing faster than the delay


def test_one_request_in_a_hundred_delayed_200ms_makes_the_top_percent() -> None:
    """With exactly 1 % of requests slow, the p99 rank is the boundary between fast and
    slow samples (nearest rank): everything above p99 is slow, everything below fast."""
    with serve(Behaviour(slow_every=100, slow_ms=200.0)) as url:
        result = run(LoadSpec(url=url + "/", connections=16, duration_s=2.0, warmup_s=0.3))
    assert result.error_count == 0
    h = hist(result)
    assert 0.005 <= h.fraction_at_or_above(150 * MS) <= 0.015
    assert h.percentile(99.5) >= 150 * MS  # the slow 1 % is the tail ...
    assert h.percentile(98.5) < 50 * MS  # ... and only it
    assert result.latency_us["p999"] >= 150 * MS
    assert result.latency_us["p90"] < 50 * MS


def test_a_stall_shows_in_the_open_loop_tail_but_hides_in_closed_loop() -> None:
    """A 1 s server stall: open loop measures from each request's scheduled time, so every
    request scheduled during the stall carries it (p99 ≈ 1 s). Closed loop sends nothing
    while its connections wait, so only a handful of samples see it (coordinated
    omission): its p99 stays low and the stall shows only in the max."""
    stall = Behaviour(stall_after_s=0.5, stall_s=1.0)
    with serve(stall) as url:
        open_result = run(
            LoadSpec(url=url + "/", mode="open", rate=200.0, max_connections=32, duration_s=2.5)
        )
    with serve(stall) as url:
        closed_result = run(LoadSpec(url=url + "/", connections=8, duration_s=2.5))
    assert open_result.error_count == 0 and closed_result.error_count == 0
    assert open_result.latency_us["p99"] >= 500 * MS
    assert open_result.latency_us["p90"] >= 300 * MS  # ~40 % of arrivals were in the stall
    assert closed_result.latency_us["max"] >= 900 * MS  # the stall happened ...
    assert closed_result.latency_us["p99"] < 100 * MS  # ... and the closed-loop tail hides it
    assert open_result.achieved_rate == pytest.approx(200.0, rel=0.1)
    assert open_result.schedule_lag_us["max"] >= 500 * MS  # sends waited for connections


def test_littles_law_holds_in_closed_loop() -> None:
    with serve(Behaviour(delay_ms=5.0)) as url:
        result = run(LoadSpec(url=url + "/", connections=8, duration_s=1.5))
    ratio = littles_law_ratio(result, 8)
    assert ratio is not None
    assert ratio == pytest.approx(1.0, abs=0.25)
    assert not any("Little" in note for note in result.notes)


def test_the_time_series_adds_up_to_the_totals() -> None:
    with serve(Behaviour(delay_ms=2.0)) as url:
        result = run(LoadSpec(url=url + "/", connections=4, duration_s=1.5, warmup_s=0.3))
    # a window under 5 s is sampled every 0.2 s: 7 points, then the last 0.1 s
    assert [p["t"] for p in result.timeseries] == pytest.approx([i / 5 for i in range(8)])
    assert [p["span_s"] for p in result.timeseries] == pytest.approx([0.2] * 7 + [0.1], abs=0.01)
    assert sum(p["requests"] for p in result.timeseries) == result.requests
    assert sum(c for _, c in result.histogram) == result.requests
    assert all(p["p50_us"] >= 2 * MS for p in result.timeseries if p["requests"])
    assert result.duration_s == pytest.approx(1.5, abs=0.1)


def test_above_a_fixed_capacity_throughput_is_the_capacity_and_the_run_is_overloaded() -> None:
    """4 slots × 20 ms serve at most 200 req/s. Asked for 300/s, the engine sends 300/s,
    the server serves ~200/s: the result says 200 (within 10 %), not 300, and overloaded;
    the responses that completed while draining are counted apart."""
    with serve(Behaviour(delay_ms=20.0, slots=4)) as url:
        result = run(
            LoadSpec(url=url + "/", mode="open", rate=300.0, duration_s=3.0, max_connections=512)
        )
    assert result.rps == pytest.approx(200.0, rel=0.1)
    assert result.achieved_rate == pytest.approx(300.0, rel=0.1)
    assert result.overloaded, result.overload
    assert result.drained > 0
    window = [p for p in result.timeseries if not p["drain"]]
    assert sum(p["requests"] for p in window) == result.requests  # agrees with its series


def test_below_a_fixed_capacity_throughput_is_the_rate_and_the_run_is_ok() -> None:
    with serve(Behaviour(delay_ms=20.0, slots=4)) as url:
        result = run(LoadSpec(url=url + "/", mode="open", rate=100.0, duration_s=3.0))
    assert result.rps == pytest.approx(100.0, rel=0.1)
    assert not result.overloaded, result.overload
    assert result.error_count == 0
