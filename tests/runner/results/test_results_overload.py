"""The overload verdict, the Little's-law rule and latency text, from plain values."""

from __future__ import annotations

import pytest

from bench.runner.results.formatting import format_latency
from bench.runner.results.little import little_note, little_ratio, little_suspect
from bench.runner.results.overload import SecondCounts, judge_overload, least_squares_slope
from bench.runner.results.status import cell_status, cell_status_parts


def seconds(completed: list[int], scheduled: int, backlog: list[int] | None = None):
    return [
        SecondCounts(float(i), scheduled, n, -1 if backlog is None else backlog[i])
        for i, n in enumerate(completed)
    ]


def test_a_server_that_keeps_up_is_not_overloaded() -> None:
    verdict = judge_overload(asked_rate=100, sent_rate=100, seconds=seconds([40, 101, 99, 100], 100))
    assert not verdict.overloaded
    assert verdict.served_share == pytest.approx(1.0)  # the first (filling) second left out
    assert verdict.reason.startswith("kept up")


def test_a_server_serving_a_third_of_the_rate_is_overloaded() -> None:
    verdict = judge_overload(
        asked_rate=1200, sent_rate=1200, seconds=seconds([395] * 4, 1200, [805, 1610, 2415, 3220])
    )
    assert verdict.overloaded
    assert verdict.served_share == pytest.approx(395 / 1200)
    assert "served 395/s of 1,200/s asked" in verdict.reason
    assert "engine" not in verdict.reason


def test_a_growing_backlog_alone_is_overload() -> None:
    # Served 95 % (inside the share's tolerance) but the queue grows 25/s all window long.
    verdict = judge_overload(
        asked_rate=500, sent_rate=500, seconds=seconds([475] * 6, 500, [25, 50, 75, 100, 125, 150])
    )
    assert verdict.overloaded
    assert "backlog grew" in verdict.reason
    assert verdict.backlog_slope == pytest.approx(25.0)
    # The same slope on a long steady queue, within its noise: not overloaded.
    noisy = judge_overload(
        asked_rate=500, sent_rate=500, seconds=seconds([500] * 4, 500, [1000, 1020, 1040, 1060])
    )
    assert not noisy.overloaded


def test_a_high_but_steady_latency_is_not_overload() -> None:
    # Every second serves what was due; the backlog is large (a long latency) but flat.
    verdict = judge_overload(
        asked_rate=500, sent_rate=500, seconds=seconds([0, 500, 500, 500, 500], 500, [250] * 5)
    )
    assert not verdict.overloaded


def test_an_engine_that_sent_too_little_is_named() -> None:
    verdict = judge_overload(asked_rate=1000, sent_rate=500, seconds=seconds([500] * 4, 1000))
    assert verdict.overloaded
    assert "the engine sent only 500/s" in verdict.reason


def test_nothing_due_is_not_judged() -> None:
    assert not judge_overload(asked_rate=100, sent_rate=0, seconds=[]).overloaded
    assert least_squares_slope([1.0], [2.0]) == 0.0
    assert least_squares_slope([1.0, 1.0], [2.0, 3.0]) == 0.0


def test_an_overloaded_repetition_makes_the_cell_overloaded_with_its_reason() -> None:
    kind, text = cell_status(["ok", "overloaded: fell behind: served 395/s of 1,200/s asked (33%)"])
    assert kind == "overloaded"
    assert text == "overloaded: fell behind: served 395/s of 1,200/s asked (33%)"
    assert cell_status(["engine-bound", "overloaded: x"])[0] == "engine-bound"
    kind, text = cell_status(["overloaded: x", "failed: crashed"])
    assert kind == "overloaded" and "1 of 2 repetitions failed: crashed" in text


def test_little_ratio_counts_the_reconnect_of_a_closing_server() -> None:
    # Sync prefork, 8 connections: 1,000 req/s × 2 ms latency = 2 of 8 connections busy;
    # each request also waited a 6 ms reconnect: (2 + 6) ms × 1,000/s = 8.
    raw = little_ratio(1000, 2000, 8)
    full = little_ratio(1000, 2000, 8, connect_mean_us=6000, connects_per_request=1.0)
    assert raw == pytest.approx(0.25)
    assert full == pytest.approx(1.0)
    note = little_note(full, latency_only=raw, connect_mean_us=6000, connects_per_request=1.0)
    assert note is not None and "closed after each response" in note and "6.00 ms" in note
    assert not little_suspect(full)


def test_little_note_flags_what_reconnects_do_not_explain() -> None:
    assert little_note(1.0, latency_only=1.0) is None
    note = little_note(0.4, latency_only=0.4)
    assert note is not None and note.startswith("Little's law off")
    assert little_ratio(0, 100, 4) is None and little_ratio(10, 100, None) is None


def test_a_latency_below_the_engines_resolution_is_not_zero() -> None:
    assert format_latency(0.0, 1000.0) == "< 1 ms"
    assert format_latency(400.0, 1000.0) == "< 1 ms"
    assert format_latency(2000.0, 1000.0) == "2 ms"
    assert format_latency(0.0) == "0 µs"
    assert format_latency(850.0) == "850 µs"
    assert format_latency(None) == "–"
    assert format_latency(float("nan"), 1000.0) == "–"


def test_the_failed_repetitions_note_is_its_own_part() -> None:
    kind, head, note = cell_status_parts(["overloaded: fell behind", "failed: crashed"])
    assert (kind, head) == ("overloaded", "overloaded: fell behind")
    assert note == " (1 of 2 repetitions failed: crashed)"
    assert cell_status_parts(["ok", "ok"]) == ("ok", "ok", "")
    assert cell_status_parts(["failed: a", "failed: b"]) == ("failed", "failed: a; b", "")

