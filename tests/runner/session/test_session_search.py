"""The search of one configuration, driven through LoadResults from a simulated server."""

from __future__ import annotations

import math

import pytest

from bench.runner.loadspec import LoadResult, LoadSpec
from bench.runner.matrix.cells import Cell, LoadPoint, ServerPoint
from bench.runner.results.search import SearchConfig
from bench.runner.results.slo import Slo
from bench.runner.results.steps import SEARCH_STEP_COLUMNS, read_steps, write_steps
from bench.runner.session.search import error_rate, run_search, step_spec, to_step

CELL = Cell(
    index=0, server=ServerPoint(server="eventloop", workers=1), load=LoadPoint(mode="search")
)


def queue_server(capacity: float, service_us: float = 2000.0, engine_limit: float = math.inf):
    """An M/M/1-like server measured by an open-loop engine: p99 = ln(100)·S/(1−ρ).

    Past its capacity it falls behind: every request waits for the growing queue.
    Above ``engine_limit`` the engine itself is saturated.
    """
    calls: list[float] = []

    def measure(rate: float) -> LoadResult:
        calls.append(rate)
        rho = rate / capacity
        served = min(rate, capacity) * 5.0
        p99 = service_us * 4.6 / (1.0 - rho) if rho < 1.0 else 5e6
        return LoadResult(
            engine="native",
            requests=int(served),
            errors={"timeout": 0},
            duration_s=5.0,
            rps=served / 5.0,
            latency_us={"p50": p99 / 6.6, "p99": p99, "mean": p99 / 4.0},
            target_rate=rate,
            achieved_rate=rate,
            engine_cpu=min(1.0, rate / engine_limit),
            engine_bound=rate >= engine_limit,
        )

    return measure, calls


@pytest.mark.parametrize("capacity", [420.0, 2500.0])
def test_converges_on_the_known_capacity(capacity):
    measure, calls = queue_server(capacity)
    slo = Slo({"p99": 100_000.0}, 0.001)
    outcome = run_search(
        CELL, slo, SearchConfig(start_rate=100.0, precision=0.02, max_steps=30), measure
    )
    expected = capacity * (1 - 2000.0 * 4.6 / 100_000.0)  # p99 ≤ 100 ms ⇔ ρ ≤ 0.908
    assert outcome.result.converged
    assert outcome.capacity == pytest.approx(expected, rel=0.03)
    assert outcome.capacity <= expected
    # every step was a real call, in order, and every call is a recorded step
    assert [s.rate for s in outcome.result.steps] == calls
    assert len(outcome.loads) == len(calls)


def test_step_rows_record_every_window_and_the_verdicts():
    measure, calls = queue_server(1000.0)
    slo = Slo({"p99": 100_000.0})
    outcome = run_search(CELL, slo, SearchConfig(start_rate=100.0), measure)
    server = [(0.1 * i, 1000 + i) for i in range(len(calls))]
    rows = outcome.step_rows(server)
    assert [r["step"] for r in rows] == list(range(len(calls)))
    assert [r["rate"] for r in rows] == calls
    assert {r["percentile"] for r in rows} == {"p99"}
    assert rows[0]["passed"] and rows[0]["reason"] == ""
    failed = [r for r in rows if not r["passed"]]
    assert failed and all(r["reason"] for r in failed)
    assert rows[2]["server_cpu_s"] == pytest.approx(0.2)
    assert rows[2]["server_rss_peak_bytes"] == 1002
    reported = outcome.reported
    assert reported is not None and rows[reported]["rate"] == outcome.capacity
    assert outcome.reported_load is outcome.loads[reported]
    fields = outcome.cell_fields()
    assert fields["search_capacity"] == outcome.capacity
    assert fields["search_steps"] == len(calls)
    assert fields["search_slo"] == "p99 ≤ 100 ms, errors ≤ 0.1%"
    assert "search:" in outcome.notes()[0]


def test_steps_round_trip_through_the_run_folder(tmp_path):
    measure, _ = queue_server(800.0)
    outcome = run_search(CELL, Slo({"p99": 100_000.0}), SearchConfig(start_rate=200.0), measure)
    write_steps(tmp_path, CELL.cell_id, 0, outcome.step_rows())
    write_steps(tmp_path, "orphan", 0, outcome.step_rows())  # no cell row: left out
    table = read_steps(tmp_path, [(CELL.cell_id, 0)])
    assert list(table.columns)[: len(SEARCH_STEP_COLUMNS)] == [c.name for c in SEARCH_STEP_COLUMNS]
    assert set(table["cell_id"]) == {CELL.cell_id}
    assert len(table) == len(outcome.result.steps)
    assert table["passed"].astype(bool).tolist() == [v.ok for v in outcome.result.verdicts]


def test_stops_at_an_engine_bound_step():
    measure, calls = queue_server(1e9, engine_limit=800.0)
    outcome = run_search(CELL, Slo({"p99": 100_000.0}), SearchConfig(start_rate=100.0), measure)
    assert calls[-1] >= 800.0
    assert "engine-bound" in outcome.result.reason
    assert not outcome.result.converged


def test_nothing_passes_reports_the_lowest_rate():
    measure, _ = queue_server(3.0)
    cfg = SearchConfig(start_rate=50.0, min_rate=5.0)
    outcome = run_search(CELL, Slo({"p99": 100_000.0}), cfg, measure)
    assert outcome.capacity is None
    lowest = min(s.rate for s in outcome.result.steps)
    assert outcome.result.steps[outcome.reported].rate == lowest
    assert "no rate met" in outcome.notes()[0]


def test_conversion_of_a_load_result():
    result = LoadResult(
        engine="native",
        requests=990,
        errors={"timeout": 6, "reset": 4},
        duration_s=1.0,
        rps=990.0,
        latency_us={"p99": 1234.0},
        achieved_rate=None,
    )
    assert error_rate(result) == pytest.approx(10 / 1000)
    step = to_step(1000.0, result, Slo({"p99": 100_000.0}))
    assert step.latency_us == 1234.0
    assert step.achieved_rate == 990.0  # no achieved rate: the responses stand in
    missing = to_step(1000.0, result, Slo({"p999": 100_000.0}))
    assert math.isinf(missing.latency_us)
    empty = LoadResult("native", 0, {}, 1.0, 0.0, {})
    assert error_rate(empty) == 1.0


def test_step_spec_is_an_open_loop_window_at_the_rate():
    spec = LoadSpec(url="http://127.0.0.1:1/", mode="closed", connections=64)
    window = step_spec(spec, 750)
    assert window.mode == "open" and window.rate == 750.0 and window.connections == 64
