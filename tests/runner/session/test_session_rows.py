"""Pure pieces of a cell: its engine spec, its row, its status, the run summary."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.runner.launch.sampler import WindowStats
from bench.runner.loadspec import LoadResult
from bench.runner.matrix.cells import expand
from bench.runner.results.schema import CELL_COLUMNS, HISTOGRAM_COLUMNS, frame
from bench.runner.scenario.model import Slo, parse_scenario
from bench.runner.session.rows import (
    cell_row,
    cell_spec,
    dimension_fields,
    failed_row,
    judge_status,
    primer_spec,
    slo_pass,
    timeseries_rows,
)
from bench.runner.session.summary import summarize

SCENARIO = parse_scenario(
    "name: r\nworkload: {app: hello, expect_status: 200}\n"
    "servers: [{server: eventloop}]\nload: {concurrency: [16], duration: 3s, warmup: 1s}\n",
    "r.yaml",
)
NO_WINDOW = WindowStats(None, None, None, [])


def result(**kw: object) -> LoadResult:
    base: dict[str, object] = {
        "engine": "native",
        "requests": 1000,
        "errors": {"connect": 0, "timeout": 0, "reset": 0, "status": 10, "body": 0, "protocol": 0},
        "duration_s": 2.0,
        "rps": 500.0,
        "latency_us": {
            "p50": 20000.0,
            "p90": 30000.0,
            "p99": 40000.0,
            "p999": 50000.0,
            "p9999": 60000.0,
            "mean": 32000.0,
            "min": 100.0,
            "max": 70000.0,
        },
    }
    base.update(kw)
    return LoadResult(**base)  # type: ignore[arg-type]


def test_cell_spec_and_primer() -> None:
    cell = expand(SCENARIO)[0]
    spec = cell_spec(cell, SCENARIO, "127.0.0.1", 8000, (1,))
    assert spec.url == "http://127.0.0.1:8000/"
    assert (spec.connections, spec.duration_s, spec.warmup_s, spec.cpus) == (16, 3.0, 1.0, (1,))
    assert spec.processes == 1 and spec.expect_status == 200
    primer = primer_spec(spec, 0.5)
    assert (primer.connections, primer.duration_s, primer.warmup_s) == (4, 0.5, 0.0)


def test_row_of_a_completed_cell() -> None:
    cell = expand(SCENARIO)[0]
    base = dimension_fields(cell, SCENARIO, "run", 0)
    window = WindowStats(cpu_s=1.0, rss_peak_bytes=123, processes=1, per_second=[(0.0, 0.5, 100)])
    row = cell_row(
        base,
        result(),
        window,
        slo=None,
        server_cpus=(0,),
        engine_cpus=(1,),
        startup_s=0.3,
        notes=["n"],
    )
    assert row["status"] == "ok"
    assert row["errors"] == 10 and row["errors_status"] == 10
    assert row["error_rate"] == pytest.approx(10 / 1010)
    assert row["little_ratio"] == pytest.approx(500 * 0.032 / 16)
    assert row["server_cpu_util"] == pytest.approx(0.5)
    assert row["server_cpus"] == "0" and row["notes"] == "n"
    assert set(row) <= {c.name for c in CELL_COLUMNS}


def test_status() -> None:
    assert judge_status(result()) == "ok"
    assert judge_status(result(engine_bound=True)) == "engine-bound"
    failed = judge_status(result(requests=0, errors={"connect": 5}))
    assert failed == "failed: no valid response in the window (errors: connect 5)"


def test_slo() -> None:
    lat = {"p99": 40000.0}
    assert slo_pass(None, lat, 0.0) is None
    assert slo_pass(Slo(p99=0.05).to_slo(), lat, 0.0) is True
    assert slo_pass(Slo(p99=0.03).to_slo(), lat, 0.0) is False
    assert slo_pass(Slo(error_rate=0.001).to_slo(), lat, 0.01) is False
    # no error_rate given: the default 0.1% still applies (a latency over successes only)
    assert slo_pass(Slo(p99=0.05).to_slo(), lat, 0.01) is False


def test_failed_row_has_no_numbers() -> None:
    base = dimension_fields(expand(SCENARIO)[0], SCENARIO, "run", 1)
    row = failed_row(base, "server did not start", server_cpus=None, engine_cpus=None, notes=[])
    assert row["status"] == "failed: server did not start"
    assert "rps" not in row and "requests" not in row


def test_timeseries_drops_the_end_sliver_and_joins_server_cpu() -> None:
    res = result(
        timeseries=[
            {
                "t": 0.0,
                "span_s": 1.0,
                "requests": 10.0,
                "errors": 0.0,
                "p50_us": 5.0,
                "p99_us": 9.0,
            },
            {"t": 1.0, "span_s": 1.0, "requests": 0.0, "errors": 2.0, "p50_us": 0.0, "p99_us": 0.0},
            {
                "t": 2.0,
                "span_s": 0.001,
                "requests": 0.0,
                "errors": 0.0,
                "p50_us": 0.0,
                "p99_us": 0.0,
            },
        ]
    )
    window = WindowStats(1.0, 1, 1, [(0.0, 0.9, 10), (1.0, 0.8, 11)])
    rows = timeseries_rows(res, window)
    assert [r["t_s"] for r in rows] == [0.0, 1.0]
    assert rows[0]["server_cpu"] == 0.9 and rows[1]["server_rss_bytes"] == 11
    assert rows[1]["p50_us"] is None  # no response that second: no latency, not 0


def test_summary_merges_histograms_across_repetitions() -> None:
    rows = [
        {
            "cell_id": "a",
            "cell_index": 0,
            "repetition": r,
            "label": "x",
            "mode": "closed",
            "concurrency": 8,
            "status": "ok",
            "rps": rps,
            "errors": 0,
            "server_cpu_util": 0.5,
        }
        for r, rps in enumerate([100.0, 300.0, 200.0])
    ]
    rows.append(
        {
            "cell_id": "b",
            "cell_index": 1,
            "repetition": 0,
            "label": "y",
            "mode": "closed",
            "concurrency": 8,
            "status": "failed: boom",
        }
    )
    cells = frame(rows, CELL_COLUMNS)
    # rep 0: 99 fast + 1 slow; rep 1 and 2: all fast. Averaging the p99s would say
    # (slow + fast + fast) / 3; the merged histogram says fast.
    hist = [
        {"cell_id": "a", "repetition": 0, "value_us": 10, "count": 99},
        {"cell_id": "a", "repetition": 0, "value_us": 9000, "count": 1},
        {"cell_id": "a", "repetition": 1, "value_us": 10, "count": 100},
        {"cell_id": "a", "repetition": 2, "value_us": 10, "count": 100},
    ]
    out = summarize(cells, frame(hist, HISTOGRAM_COLUMNS))
    a, b = out
    assert (a["rps_median"], a["rps_min"], a["rps_max"]) == (200.0, 100.0, 300.0)
    assert a["p99_us"] == 10.0
    assert a["status"] == "ok"
    assert b["status"] == "failed: boom" and b["rps_median"] is None
    assert summarize(frame([], CELL_COLUMNS), pd.DataFrame()) == []
