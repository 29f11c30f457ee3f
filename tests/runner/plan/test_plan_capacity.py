"""Capacity per configuration at an SLO, from run folders written by the results writer."""

from __future__ import annotations

import pytest
from plan_testkit import Point, SearchRecord, write_run

from bench.runner.plan.capacity import best_of, capacities, little_deviations
from bench.runner.results.slo import Slo
from bench.runner.results.steps import read_steps
from bench.runner.results.store import load_run
from bench.runner.results.summary import summarize

SLO = Slo({"p99": 100_000.0}, 0.001)


def _caps(tmp_path, points, searches=(), slo=SLO):
    run = write_run(tmp_path / "run", points, searches)
    data = load_run(run)
    summary = summarize(data.cells, data.histograms)
    keys = zip(data.cells["cell_id"], data.cells["repetition"], strict=True)
    steps = read_steps(run, [(str(c), int(r)) for c, r in keys])
    return {c.config: c for c in capacities(summary, steps, slo)}, summary


def test_closed_loop_capacity_is_the_best_passing_cell_with_its_bracket(tmp_path):
    points = [
        Point("prefork", 1, 8, 150.0, 20.0, worker_class="sync", cpu_us_per_request=800.0),
        Point("prefork", 1, 32, 180.0, 90.0, worker_class="sync", cpu_us_per_request=700.0),
        Point("prefork", 1, 128, 185.0, 400.0, worker_class="sync"),
    ]
    caps, _ = _caps(tmp_path, points)
    cap = caps["prefork sync w1"]
    assert cap.source == "closed"
    assert cap.capacity_rps == pytest.approx(180.0)
    assert cap.at is not None and cap.at.load_label == "c=32"
    assert cap.above is not None and cap.above.load_label == "c=128"
    assert "p99" in cap.above.reason
    assert not cap.lower_bound
    assert cap.cpu_s_per_1k == pytest.approx(0.7)  # 700 µs per request × 1,000
    assert cap.rss_per_1k_bytes == pytest.approx(50 * 2**20 * 1000 / 180.0)
    assert cap.server_cpus == 1


def test_percentiles_come_from_the_merged_histograms_not_averages(tmp_path):
    # Two repetitions with p99s of 60 ms and 200 ms: their mean (130 ms) fails a 100 ms
    # SLO. Merged, the 2000 samples have 1970 at 15 ms and 50 ms, then 10 at 60 ms, so
    # the nearest-rank p99 of the cell is 60 ms: it passes.
    points = [
        Point("eventloop", 1, 32, 500.0, 60.0, repetition=0),
        Point("eventloop", 1, 32, 520.0, 200.0, repetition=1),
    ]
    caps, summary = _caps(tmp_path, points)
    assert summary["p99_us"].iloc[0] == pytest.approx(60_000.0)
    cap = caps["eventloop w1"]
    assert cap.capacity_rps == pytest.approx(510.0)  # median over repetitions
    assert cap.spread == (500.0, 520.0)


def test_slo_holding_at_the_highest_load_is_a_lower_bound(tmp_path):
    points = [Point("eventloop", 1, c, 100.0 * c, 10.0) for c in (8, 32)]
    caps, _ = _caps(tmp_path, points)
    cap = caps["eventloop w1"]
    assert cap.capacity_rps == pytest.approx(3200.0)
    assert cap.lower_bound and "highest load" in cap.bound_reason
    assert cap.above is None


def test_engine_bound_capacity_is_a_lower_bound(tmp_path):
    points = [
        Point("eventloop", 1, 8, 900.0, 10.0),
        Point("eventloop", 1, 32, 1000.0, 30.0, status="engine-bound"),
        Point("eventloop", 1, 128, 1000.0, 200.0),
    ]
    caps, _ = _caps(tmp_path, points)
    cap = caps["eventloop w1"]
    assert cap.capacity_rps == pytest.approx(1000.0)
    assert cap.lower_bound and "engine" in cap.bound_reason


def test_never_meeting_the_slo_gives_no_capacity(tmp_path):
    points = [Point("prefork", 1, c, 20.0, 400.0 * c / 8, worker_class="sync") for c in (8, 32)]
    caps, _ = _caps(tmp_path, points)
    cap = caps["prefork sync w1"]
    assert cap.capacity_rps is None and cap.at is None
    assert cap.points[0].reason.startswith("p99")
    assert best_of(list(caps.values())) is None


def test_errors_and_failed_cells_fail_their_points(tmp_path):
    points = [
        Point("eventloop", 1, 8, 100.0, 10.0),
        Point("eventloop", 1, 32, 400.0, 20.0, error_rate=0.01),
        Point("eventloop", 1, 128, 0.0, 0.0, status="failed: server exited (code 1)"),
    ]
    caps, _ = _caps(tmp_path, points)
    cap = caps["eventloop w1"]
    assert cap.capacity_rps == pytest.approx(100.0)
    assert "error rate" in cap.above.reason
    assert any("server exited" in n for n in cap.notes)
    assert [p.ok for p in cap.points] == [True, False, False]


def test_open_loop_capacity_is_the_highest_rate_kept_up_with(tmp_path):
    points = [
        Point("eventloop", 1, 200, 200.0, 5.0, mode="open"),
        Point("eventloop", 1, 400, 400.0, 8.0, mode="open"),
        # p99 within the SLO, but only 80% of the arrivals were sent: fell behind
        Point("eventloop", 1, 800, 640.0, 50.0, mode="open", achieved_rate=640.0),
    ]
    caps, _ = _caps(tmp_path, points)
    cap = caps["eventloop w1"]
    assert cap.source == "open"
    assert cap.capacity_rps == pytest.approx(400.0)
    assert "fell behind" in cap.above.reason


def test_search_capacity_from_the_steps_median_over_repetitions(tmp_path):
    steps_a = [(100, 10), (200, 20), (400, 150), (300, 90), (350, 120)]
    steps_b = [(100, 10), (200, 20), (400, 150), (300, 80), (350, 99)]
    searches = [
        SearchRecord(Point("eventloop", 1, 300, 300.0, 90.0, mode="search", repetition=0), steps_a),
        SearchRecord(Point("eventloop", 1, 300, 350.0, 99.0, mode="search", repetition=1), steps_b),
    ]
    caps, _ = _caps(tmp_path, [], searches)
    cap = caps["eventloop w1"]
    assert cap.source == "search"
    assert cap.capacity_rps == pytest.approx(325.0)
    assert cap.spread == (300.0, 350.0)
    assert cap.at is not None and cap.at.rate == 350.0
    assert cap.above is not None and cap.above.rate == 400.0
    assert not cap.lower_bound


def test_search_steps_are_rejudged_at_the_plans_slo(tmp_path):
    steps = [(100, 10), (200, 20), (400, 150), (300, 90), (350, 120)]
    searches = [SearchRecord(Point("eventloop", 1, 300, 300.0, 90.0, mode="search"), steps)]
    caps, _ = _caps(tmp_path, [], searches, slo=Slo({"p99": 25_000.0}, 0.001))
    assert caps["eventloop w1"].capacity_rps == pytest.approx(200.0)


def test_little_law_deviations_are_flagged(tmp_path):
    points = [
        Point("eventloop", 1, 8, 100.0, 10.0, little_ratio=1.05),
        Point("eventloop", 1, 32, 100.0, 10.0, little_ratio=0.6),
    ]
    _, summary = _caps(tmp_path, points)
    flagged = little_deviations(summary)
    assert flagged == [("eventloop w1", "c=32", pytest.approx(0.6))]
