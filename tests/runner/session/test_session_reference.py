"""The reference workload: a fixed CPU loop and loopback round trips, figures per run."""

from __future__ import annotations

import pytest

from bench.runner.session import reference
from bench.runner.session.reference import CPU_ITERATIONS, ROUND_TRIPS, ROUNDS, measure_reference


def test_session_reference_measures_both_tasks() -> None:
    ref = measure_reference()
    assert ref["version"] == reference.REFERENCE_VERSION
    for task in ("cpu", "loopback"):
        figure = ref[task]
        assert figure["value"] > 0 and 0 < figure["best"] <= figure["value"]
        assert figure["spread"] >= 0
    assert ref["cpu"]["unit"] == "ns/step"


def test_session_reference_figures_are_per_step_and_per_round_trip() -> None:
    rounds = iter([0.2, 0.1, 0.3, 0.1, 0.1])  # seconds per round
    ref = measure_reference(
        cpu=lambda: next(rounds), loopback=lambda: [ROUND_TRIPS * 20e-6] * ROUNDS
    )
    assert ref["cpu"]["value"] == pytest.approx(0.1 / CPU_ITERATIONS * 1e9)
    assert ref["cpu"]["spread"] == pytest.approx((0.3 - 0.1) / 0.1)
    assert ref["loopback"]["value"] == pytest.approx(20.0)


def test_session_reference_without_loopback_is_reported_not_raised() -> None:
    def refused() -> list[float]:
        raise OSError(99, "Cannot assign requested address")

    ref = measure_reference(loopback=refused)
    assert ref["loopback"] == {"error": "loopback not measured: Cannot assign requested address"}
    assert ref["cpu"]["value"] > 0
