"""bench.runner.scenario.gates: the gates configuration (scenario section and command-line options)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bench.runner.scenario.gates import Gates, canonical_metric, parse_metric_option


def test_compare_gates_defaults() -> None:
    gates = Gates()
    assert gates.alpha == 0.008 and gates.correction == "holm" and gates.min_repetitions == 3
    assert [m.name for m in gates.enabled()] == ["rps", "p50", "p99", "p999", "error_rate", "rss"]
    assert gates.threshold("p99") == 0.05
    assert gates.threshold("error_rate") == 0.001  # absolute: 0.1 percentage points


def test_compare_gates_from_scenario_data() -> None:
    gates = Gates.model_validate(
        {"max_regression": "10%", "metrics": {"p99.9": "off", "p50": 0.02, "errors": "1%"}}
    )
    assert gates.threshold("rps") == pytest.approx(0.10)
    assert gates.threshold("p50") == pytest.approx(0.02)
    assert gates.threshold("error_rate") == pytest.approx(0.01)
    assert gates.threshold("p999") is None
    assert "p999" not in [m.name for m in gates.enabled()]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"metrics": {"p42": "5%"}}, "unknown metric 'p42'; allowed: rps, p50"),
        ({"alpha": 0.7}, "less than 0.5"),
        ({"max_regression": "lots"}, "expected a percentage"),
        ({"mystery": 1}, "Extra inputs are not permitted"),
        ({"correction": "bonferroni"}, "'holm' or 'none'"),
    ],
)
def test_compare_gates_reject_bad_values(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Gates.model_validate(data)


def test_compare_gates_command_line_wins() -> None:
    scenario = Gates.model_validate({"max_regression": "10%", "metrics": {"p99": "20%"}})
    merged = scenario.overridden(metrics={"p99": 0.5, "rss": None}, alpha=0.01)
    assert merged.threshold("p99") == 0.5 and merged.threshold("rss") is None
    assert merged.threshold("p50") == pytest.approx(0.10) and merged.alpha == 0.01
    assert scenario.threshold("p99") == pytest.approx(0.20)  # frozen: the original is untouched


def test_compare_gates_metric_option() -> None:
    assert parse_metric_option("p99:10%") == ("p99", pytest.approx(0.10))
    assert parse_metric_option("p99.9:off") == ("p999", None)
    assert canonical_metric("req/s") == "rps"
    for bad in ("p99", "p99:", ":5%", "p42:5%", "p99:much"):
        with pytest.raises(ValueError):
            parse_metric_option(bad)
