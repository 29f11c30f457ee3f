"""The scenario's search settings validate and convert to the search's dataclasses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bench.runner.results.search import SearchConfig
from bench.runner.scenario.search import SearchSettings, SearchSlo


def test_slo_from_human_units():
    slo = SearchSlo.model_validate({"p99": "100ms", "error_rate": "0.1%"}).to_slo()
    assert slo.percentile == "p99"
    assert slo.limit_us == pytest.approx(100_000.0)
    assert slo.error_limit == pytest.approx(0.001)


def test_error_rate_defaults_to_a_tenth_of_a_percent():
    assert SearchSlo.model_validate({"p999": "1s"}).to_slo().error_limit == pytest.approx(0.001)


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "exactly one latency limit"),
        ({"p50": "10ms", "p99": "100ms"}, "exactly one latency limit"),
        ({"p99": "0ms"}, "more than 0"),
        ({"p99": "100ms", "p95": "1s"}, "unknown field 'p95'"),
        ({"p99": "fast"}, "duration"),
        ({"p99": "100ms", "error_rate": "150%"}, "between 0 and 1"),
    ],
)
def test_slo_rejects(data, message):
    with pytest.raises(ValidationError, match=message):
        SearchSlo.model_validate(data)


def test_settings_convert_and_default_like_the_search():
    assert SearchSettings().to_config() == SearchConfig()
    cfg = SearchSettings.model_validate(
        {"start_rate": 200, "precision": "2%", "max_steps": 20}
    ).to_config()
    assert (cfg.start_rate, cfg.precision, cfg.max_steps) == (200.0, 0.02, 20)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"growth": 1.0}, "greater than 1"),
        ({"min_rate": 10, "max_rate": 5, "start_rate": 7}, "min_rate is above max_rate"),
        ({"start_rate": 5, "min_rate": 10}, "between min_rate and max_rate"),
        ({"precision": 0}, "precision"),
        ({"steps": 3}, "unknown field 'steps'"),
    ],
)
def test_settings_reject(data, message):
    with pytest.raises(ValidationError, match=message):
        SearchSettings.model_validate(data)


def test_models_are_frozen():
    slo = SearchSlo.model_validate({"p99": "1s"})
    with pytest.raises(ValidationError):
        slo.p99 = 2.0  # type: ignore[misc]
