"""Open-loop arrival schedules (pure)."""

from __future__ import annotations

import itertools

import pytest

from bench.runner.engines.native.schedule import Schedule

NS = 1_000_000_000


def test_constant_arrivals_are_evenly_spaced_without_drift() -> None:
    schedule = Schedule(3.0, "constant", start_ns=1_000)
    due = schedule.take_due(1_000 + 10 * NS)
    assert len(due) == 31  # t = 0, 1/3, 2/3, ... 10 s inclusive
    assert due[0] == 1_000
    assert due[3] == 1_000 + NS
    assert due[30] == 1_000 + 10 * NS


def test_take_due_removes_what_it_returns() -> None:
    schedule = Schedule(10.0, "constant", start_ns=0)
    assert schedule.take_due(-1) == []
    assert schedule.take_due(0) == [0]
    assert schedule.take_due(NS // 10 - 1) == []
    assert schedule.take_due(NS // 5) == [NS // 10, NS // 5]
    assert schedule.next_ns == 3 * NS // 10


def test_poisson_arrivals_have_the_target_mean_rate() -> None:
    schedule = Schedule(1000.0, "poisson", start_ns=0, seed=1)
    due = schedule.take_due(20 * NS)
    assert len(due) / 20 == pytest.approx(1000, rel=0.03)
    gaps = [b - a for a, b in itertools.pairwise(due)]
    assert all(g > 0 for g in gaps)
    # Exponential gaps: the standard deviation equals the mean.
    mean = sum(gaps) / len(gaps)
    var = sum((g - mean) ** 2 for g in gaps) / len(gaps)
    assert var**0.5 == pytest.approx(mean, rel=0.05)


def test_poisson_schedules_repeat_with_a_seed() -> None:
    a = Schedule(50.0, "poisson", 0, seed=3).take_due(NS)
    b = Schedule(50.0, "poisson", 0, seed=3).take_due(NS)
    assert a == b


@pytest.mark.parametrize(("rate", "arrival"), [(0.0, "constant"), (-1.0, "poisson"), (1.0, "x")])
def test_invalid_schedules_are_refused(rate: float, arrival: str) -> None:
    with pytest.raises(ValueError):
        Schedule(rate, arrival, 0)  # type: ignore[arg-type]
