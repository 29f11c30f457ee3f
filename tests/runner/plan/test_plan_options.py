"""``--slo`` and ``--headroom`` parsing, and the SLO read back from a run's scenario."""

from __future__ import annotations

import pytest

from bench.runner.errors import UsageError
from bench.runner.plan.options import parse_headroom, parse_slo
from bench.runner.results.slo import DEFAULT_ERROR_RATE, Slo


@pytest.mark.parametrize(
    "items, expected",
    [
        (["p99<=100ms"], Slo({"p99": 100_000.0}, DEFAULT_ERROR_RATE)),
        (["p99<=100ms", "error_rate<=1%"], Slo({"p99": 100_000.0}, 0.01)),
        (["p99.9 <= 1s, errors<=0.5%"], Slo({"p999": 1e6}, 0.005)),
        (["p50≤250us"], Slo({"p50": 250.0}, DEFAULT_ERROR_RATE)),
        (["P99<0.25"], Slo({"p99": 250_000.0}, DEFAULT_ERROR_RATE)),
    ],
)
def test_parse_slo(items, expected):
    slo = parse_slo(items)
    assert slo.percentile == expected.percentile
    assert slo.limit_us == pytest.approx(expected.limit_us)
    assert slo.error_limit == pytest.approx(expected.error_limit)


@pytest.mark.parametrize(
    "items, message",
    [
        (["p99=100ms"], "expected KEY<=VALUE"),
        (["p95<=100ms"], "unknown key 'p95'"),
        (["p99<=fast"], "duration"),
        (["p99<=0ms"], "more than 0"),
        (["error_rate<=0.1%"], "needs a latency limit"),
        (["p99<=100ms", "p50<=10ms"], "one latency percentile"),
        (["p99<=1s", "error_rate<=2"], "between 0 and 1"),
    ],
)
def test_parse_slo_rejects(items, message):
    with pytest.raises(UsageError, match=message):
        parse_slo(items)


def test_headroom():
    assert parse_headroom("30%") == pytest.approx(0.3)
    assert parse_headroom("0") == 0.0
    with pytest.raises(ValueError, match="below 100%"):
        parse_headroom("100%")
    with pytest.raises(ValueError):
        parse_headroom("lots")
