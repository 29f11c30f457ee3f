"""``--slo`` and ``--headroom`` parsing, and the SLO read back from a run's scenario."""

from __future__ import annotations

import pytest

from runner.errors import UsageError
from runner.plan.options import (
    DEFAULT_ERROR_RATE,
    describe_slo,
    parse_headroom,
    parse_slo,
    slo_from_manifest,
)
from runner.plan.search import Slo


@pytest.mark.parametrize(
    "items, expected",
    [
        (["p99<=100ms"], Slo("p99", 100_000.0, DEFAULT_ERROR_RATE)),
        (["p99<=100ms", "error_rate<=1%"], Slo("p99", 100_000.0, 0.01)),
        (["p99.9 <= 1s, errors<=0.5%"], Slo("p999", 1e6, 0.005)),
        (["p50≤250us"], Slo("p50", 250.0, DEFAULT_ERROR_RATE)),
        (["P99<0.25"], Slo("p99", 250_000.0, DEFAULT_ERROR_RATE)),
    ],
)
def test_parse_slo(items, expected):
    slo = parse_slo(items)
    assert slo.percentile == expected.percentile
    assert slo.latency_us == pytest.approx(expected.latency_us)
    assert slo.max_error_rate == pytest.approx(expected.max_error_rate)


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


def test_slo_from_the_scenario_text():
    text = "name: x\nslo: {p50: 10ms, p99: 250ms, error_rate: 0.5%}\n"
    slo = slo_from_manifest({"scenario_text": text})
    assert slo == Slo("p99", 250_000.0, 0.005)


def test_search_slo_wins_over_the_scenario_slo():
    text = "name: x\nload: {mode: search, slo: {p90: 20ms}}\nslo: {p99: 250ms}\n"
    slo = slo_from_manifest({"scenario_text": text})
    assert slo is not None and slo.percentile == "p90" and slo.latency_us == pytest.approx(20_000.0)


@pytest.mark.parametrize("text", [None, "name: x\n", "name: x\nslo: {error_rate: 1%}\n", ": [bad"])
def test_no_slo_in_the_scenario(text):
    assert slo_from_manifest({"scenario_text": text}) is None


def test_headroom():
    assert parse_headroom("30%") == pytest.approx(0.3)
    assert parse_headroom("0") == 0.0
    with pytest.raises(ValueError, match="below 100%"):
        parse_headroom("100%")
    with pytest.raises(ValueError):
        parse_headroom("lots")


def test_describe_slo():
    assert describe_slo(Slo("p999", 1_500.0, 0.001)) == "p99.9 ≤ 1.5 ms, errors ≤ 0.1%"
    assert describe_slo(Slo("p50", 800.0, 0.0)) == "p50 ≤ 800 µs, errors ≤ 0%"
