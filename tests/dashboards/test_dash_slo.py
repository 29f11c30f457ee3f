"""The SLO read back from the manifest's scenario text, and judged on summary rows."""

from __future__ import annotations

import pytest

from runner.results.slo import Slo, slo_from_manifest, slo_from_mapping

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
