"""The scheduler's pure decisions, on plain values."""

from __future__ import annotations

from bench.runner.events.scheduler import steady_workers


def test_the_configured_worker_count_wins_over_a_mid_recycle_sample() -> None:
    # two workers configured; the window opened while one exited and its replacement ran
    assert steady_workers(2, 3) == 2
    assert steady_workers(2, 1) == 2


def test_the_observed_count_stands_in_when_none_was_configured() -> None:
    assert steady_workers(None, 3) == 3
    assert steady_workers(0, 2) == 2
