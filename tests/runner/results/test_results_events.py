"""The event-window arithmetic on synthetic per-second series: windows, recovery, loss."""

from __future__ import annotations

import pytest

from bench.runner.results.events import (
    Second,
    event_cost,
    second_at,
    seconds_from_series,
    stall_seen,
    steady_range,
)
from bench.runner.results.histogram import Histogram


def sec(t: float, p99_ms: float, requests: int = 100, span: float = 1.0, **kw: object) -> Second:
    """A second whose latencies are all ``p99_ms`` (so its p99, p99.9 and max are too)."""
    hist = Histogram.from_pairs([(int(p99_ms * 1000), requests)]) if requests else Histogram.empty()
    return Second(t_s=t, span_s=span, requests=requests, histogram=hist, **kw)  # type: ignore[arg-type]


STEADY = [sec(float(t), 2.0) for t in range(4)]  # 0..3 s at 2 ms


def test_steady_range_takes_whole_seconds_before_the_event() -> None:
    series = [*STEADY, sec(4.0, 50.0), sec(5.0, 2.0)]
    assert steady_range(series, 4.0, steady_s=3.0) == [1, 2, 3]
    assert steady_range(series, 4.5, steady_s=3.0) == [
        2,
        3,
    ]  # 1.5 s back: second 1 starts too early
    assert steady_range(series, 4.0, steady_s=10.0, not_before_s=2.0) == [2, 3]
    assert second_at(series, 4.3) == 4
    assert second_at(series, 99.0) == 5  # past the end: the last second


def test_a_spike_recovers_when_p99_is_back_within_the_factor() -> None:
    series = [*STEADY, sec(4.0, 80.0), sec(5.0, 30.0), sec(6.0, 3.9), sec(7.0, 2.0)]
    cost = event_cost(series, 4.0, steady_s=3.0, factor=2.0)
    assert cost.steady_p99_us == 2000.0
    assert (cost.steady_from_s, cost.steady_to_s) == (1.0, 4.0)
    assert cost.recovered and cost.recovery_s == 2.0  # second 6 (3.9 ms <= 4 ms) is back
    assert (cost.window_from_s, cost.window_to_s) == (4.0, 7.0)  # through the recovered second
    assert cost.requests == 300
    assert cost.p99_us == 80000.0 and cost.max_us == 80000.0
    assert cost.p99_ratio == pytest.approx(40.0)


def test_an_event_that_changes_nothing_recovers_in_zero_seconds() -> None:
    cost = event_cost([*STEADY, sec(4.0, 2.5), sec(5.0, 2.0)], 4.0)
    assert cost.recovered and cost.recovery_s == 0.0
    assert (cost.window_from_s, cost.window_to_s) == (4.0, 5.0)  # one second at least
    assert cost.errors == {} and cost.lost == 0 and cost.unsent == 0


def test_errors_keep_the_window_open_and_lost_counts_resets_and_timeouts() -> None:
    series = [
        *STEADY,
        sec(4.0, 2.0, requests=90, errors={"reset": 3, "connect": 7}),
        sec(5.0, 2.0, requests=99, errors={"timeout": 1}),
        sec(6.0, 2.0),
    ]
    cost = event_cost(series, 4.2)
    assert cost.recovery_s == pytest.approx(1.8)  # second 6 is the first without errors
    assert cost.errors == {"reset": 3, "connect": 7, "timeout": 1}
    assert cost.lost == 4  # sent and never answered: reset + timeout; connect never got sent
    assert cost.to_row()["errors"] == 11 and cost.to_row()["errors_connect"] == 7


def test_a_pause_is_judged_from_its_end_and_a_closed_loop_counts_what_it_never_sent() -> None:
    # closed loop: 100 req/s steady; the server stops 1 s at t=4: nothing completes in
    # second 4, the backlog completes late in second 5, normal from second 6.
    series = [*STEADY, sec(4.0, 0.0, requests=0), sec(5.0, 900.0, requests=40), sec(6.0, 2.0)]
    cost = event_cost(series, 4.0, hold_s=1.0)
    assert cost.recovered and cost.recovery_s == 2.0
    assert cost.p999_us == 900000.0
    assert cost.unsent == 160  # 3 s × 100/s due, 140 done (second 6 is back: 100)


def test_open_loop_unsent_comes_from_the_schedule() -> None:
    base = [sec(float(t), 2.0, sent=100, scheduled=100) for t in range(4)]
    series = [
        *base,
        sec(4.0, 500.0, sent=70, scheduled=100),
        sec(5.0, 2.0, sent=100, scheduled=100),
    ]
    assert event_cost(series, 4.0).unsent == 30


def test_never_recovered_runs_the_window_to_its_end() -> None:
    series = [*STEADY, sec(4.0, 50.0), sec(5.0, 40.0)]
    cost = event_cost(series, 4.0)
    assert not cost.recovered and cost.recovery_s is None
    assert cost.window_to_s == 6.0
    assert any("not back" in n for n in cost.notes)


def test_no_steady_state_means_recovery_is_not_judged() -> None:
    cost = event_cost([sec(0.0, 2.0, span=0.4), sec(0.4, 9.0)], 0.5)
    assert cost.steady_p99_us is None and cost.recovery_s is None
    assert any("no steady state" in n for n in cost.notes)


def test_the_stall_self_test() -> None:
    assert stall_seen(900_000.0, 1.0) is True
    assert stall_seen(20_000.0, 1.0) is False  # a closed loop's p99.9 that hid the stall
    assert stall_seen(20_000.0, 0.0) is None  # not a pause


def test_seconds_from_the_engine_series_drop_drain_and_read_error_kinds() -> None:
    points = [
        {
            "t": 0.0,
            "span_s": 1.0,
            "requests": 5,
            "errors": 2,
            "errors_reset": 2.0,
            "errors_connect": 0.0,
            "sent": 7.0,
            "scheduled": 7.0,
            "drain": 0.0,
        },
        {"t": 1.0, "span_s": 0.3, "requests": 1, "errors": 0, "drain": 1.0},
    ]
    hists = [Histogram.from_pairs([(100, 5)]), Histogram.from_pairs([(200, 1)])]
    (only,) = seconds_from_series(points, hists)
    assert only.errors == {"reset": 2, "connect": 0} and only.error_count == 2
    assert only.sent == 7 and only.p99_us == 100.0


def test_the_next_event_ends_the_window() -> None:
    series = [*STEADY, sec(4.0, 50.0), sec(5.0, 40.0), sec(6.0, 300.0, errors={"connect": 9})]
    cost = event_cost(series, 4.0, until_s=6.3)  # the next event was taken at 6.3 s
    assert not cost.recovered and cost.window_to_s == 6.0  # second 6 is the next event's
    assert cost.errors == {} and cost.max_us == 50000.0
    assert any("next event" in n for n in cost.notes)


def test_an_event_whose_end_falls_past_the_series_is_not_called_recovered() -> None:
    series = [*STEADY, sec(4.0, 2.0), sec(5.0, 2.0)]
    cost = event_cost(series, 5.5, hold_s=1.0, until_s=6.0)  # the pause ends after the cut
    assert not cost.recovered and cost.recovery_s is None
