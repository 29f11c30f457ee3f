"""The one SLO: read back from the manifest's scenario text, judged, described, narrowed."""

from __future__ import annotations

import pytest

from bench.runner.results.slo import DEFAULT_ERROR_RATE, Slo, slo_from_manifest, slo_from_mapping

SCENARIO = """\
name: x
slo: {p99: 250ms, p50: 20ms, error_rate: 0.1%}
"""


def test_slo_from_manifest_uses_the_scenario_units() -> None:
    slo = slo_from_manifest({"scenario_text": SCENARIO})
    assert slo is not None
    assert slo.latency_us == {"p50": 20_000.0, "p99": 250_000.0}
    assert slo.error_rate == pytest.approx(0.001)
    assert slo.describe() == "p50 ≤ 20 ms, p99 ≤ 250 ms, errors ≤ 0.1%"


@pytest.mark.parametrize(
    "manifest",
    [{}, {"scenario_text": "name: x\n"}, {"scenario_text": ": : not yaml ["}, {"scenario_text": 3}],
)
def test_no_slo_when_absent_or_unreadable(manifest: dict) -> None:
    assert slo_from_manifest(manifest) is None


def test_bad_units_mean_no_slo_rather_than_a_wrong_one() -> None:
    assert slo_from_mapping({"p99": "fast"}) is None


def test_verdict() -> None:
    slo = Slo({"p99": 1000.0}, error_rate=0.01)
    assert slo.verdict({"p99_us": 999.0, "error_rate": 0.0}) is True
    assert slo.verdict({"p99_us": 1001.0, "error_rate": 0.0}) is False
    assert slo.verdict({"p99_us": 10.0, "error_rate": 0.02}) is False
    assert slo.verdict({"p99_us": float("nan"), "error_rate": None}) is None
    assert Slo().verdict({"p99_us": 1.0}) is None


def test_a_latency_only_slo_still_limits_errors() -> None:
    # The same rule for a cell's row, the dashboard and a plan: 0.1% unless given.
    slo = Slo({"p99": 1000.0})
    assert slo.error_limit == DEFAULT_ERROR_RATE
    assert slo.verdict({"p99_us": 10.0, "error_rate": 0.05}) is False
    assert slo.verdict({"p99_us": 10.0, "error_rate": 0.0005}) is True
    assert slo.describe() == "p99 ≤ 1 ms, errors ≤ 0.1%"


def test_capacity_is_judged_on_p99_else_the_highest_percentile() -> None:
    assert Slo({"p50": 1.0, "p99": 2.0, "p999": 3.0}).percentile == "p99"
    assert Slo({"p50": 1.0, "p999": 3.0}).percentile == "p999"
    narrowed = Slo({"p50": 1.0, "p99": 250_000.0}, 0.005).narrowed()
    assert narrowed == Slo({"p99": 250_000.0}, 0.005)
    assert narrowed.limit_us == 250_000.0
    with pytest.raises(ValueError, match="no latency percentile"):
        _ = Slo(error_rate=0.01).percentile


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="p95"):
        Slo({"p95": 1.0})


def test_a_search_objective_comes_first_for_a_plan_only() -> None:
    text = "name: x\nload: {mode: search, slo: {p90: 20ms}}\nslo: {p99: 250ms}\n"
    plan = slo_from_manifest({"scenario_text": text}, search_first=True)
    assert plan == Slo({"p90": 20_000.0})
    cells = slo_from_manifest({"scenario_text": text})
    assert cells == Slo({"p99": 250_000.0})
    only_search = "name: x\nload: {mode: search, slo: {p99: 1s, error_rate: 1%}}\n"
    assert slo_from_manifest({"scenario_text": only_search}, search_first=True) == Slo(
        {"p99": 1e6}, 0.01
    )


def test_describe_names_p99_9_and_small_limits() -> None:
    assert Slo({"p999": 1_500.0}, 0.001).describe() == "p99.9 ≤ 1.5 ms, errors ≤ 0.1%"
    assert Slo({"p50": 800.0}, 0.0).describe() == "p50 ≤ 800 µs, errors ≤ 0%"
