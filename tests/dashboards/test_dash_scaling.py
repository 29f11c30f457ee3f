"""Throughput and p99 vs load, and capacity vs workers / threads."""

from __future__ import annotations

import math

import dash_tables as t
import pytest

from bench.dashboards.figures.scaling import (
    capacity_table,
    capacity_vs,
    same_load_table,
    shared_load,
    throughput_vs_load,
)
from bench.runner.results.slo import Slo
from bench.runner.results.summary import summarize


def _named(fig, name, row_axis="y"):
    return [tr for tr in fig.data if tr.name == name and tr.yaxis == row_axis]


def test_throughput_vs_load_two_rows_with_spread() -> None:
    rows = t.three_configs()
    rows.append(t.cell_row("A8", label="prefork sync w1", concurrency=8, repetition=1, rps=1010.0, p99=9e3,
                           cell_index=3))  # fmt: skip
    rows.append(t.cell_row("A8", label="prefork sync w1", concurrency=8, repetition=2, rps=950.0, p99=9e3,
                           cell_index=3))  # fmt: skip
    fig = throughput_vs_load(summarize(t.cells(rows), t.histograms({})), Slo({"p99": 20_000.0}))
    top = _named(fig, "prefork sync w1", "y")[0]
    bottom = _named(fig, "prefork sync w1", "y2")[0]
    assert list(top.x) == [1, 8, 64] and list(top.y) == [500, 990, 1000]
    assert list(bottom.y) == pytest.approx([2.0, 9.0, 70.0])  # p99 in ms
    assert top.error_y.array[1] == pytest.approx(20) and top.error_y.arrayminus[1] == pytest.approx(
        40
    )
    assert fig.layout.yaxis.title.text == "throughput (req/s)"
    assert fig.layout.yaxis2.title.text == "p99 latency (ms)"
    assert fig.layout.xaxis2.title.text == "concurrency (connections)"
    assert fig.layout.xaxis.type == "log" and list(fig.layout.xaxis.tickvals) == [1, 8, 64]
    assert [s.name for s in fig.layout.shapes] == ["slo-p99"]
    assert fig.layout.shapes[0].yref == "y2"


def test_failed_cell_is_a_cross_at_its_load_point_not_a_zero() -> None:
    fig = throughput_vs_load(summarize(t.cells(t.three_configs()), t.histograms({})))
    eventloop = _named(fig, "eventloop w1")[0]
    assert list(eventloop.x) == [1, 8]  # no point at c=64
    crosses = [a for a in fig.layout.annotations if a.name == "failed"]
    assert len(crosses) == 1
    assert crosses[0].text == "✕"
    assert crosses[0].x == pytest.approx(1.806, abs=1e-3)  # log10(64) on the log axis
    assert "failed: server exited with code 1" in crosses[0].hovertext


def test_capacity_vs_workers_takes_the_best_load_point() -> None:
    summary = summarize(t.cells(t.three_configs()), t.histograms({}))
    table = capacity_table(summary, "workers")
    assert list(table["family"]) == ["prefork sync", "prefork sync"]
    assert list(table["workers"]) == [1, 2]
    assert list(table["rps"]) == [1000, 2000]
    fig = capacity_vs(summary, "workers")
    assert fig is not None
    line = _named(fig, "prefork sync")[0]
    assert list(line.x) == [1, 2] and list(line.y) == [1000, 2000]
    assert "best at" in line.hovertext[0] and "c=64" in line.hovertext[0]
    assert fig.layout.xaxis2.title.text == "workers (worker processes)"


def test_capacity_vs_is_none_when_the_axis_never_varies() -> None:
    summary = summarize(t.cells(t.three_configs()), t.histograms({}))
    assert capacity_vs(summary, "threads") is None


def test_a_configuration_that_always_failed_is_a_cross_at_its_worker_count() -> None:
    rows = t.three_configs()
    for i, c in enumerate((1, 8, 64)):
        rows.append(t.cell_row(f"D{c}", label="prefork sync w4", concurrency=c, rps=None,
                               status="failed: out of memory", cell_index=20 + i))  # fmt: skip
    fig = capacity_vs(summarize(t.cells(rows), t.histograms({})), "workers")
    assert fig is not None
    assert list(fig.layout.xaxis.tickvals) == [1, 2, 4]
    crosses = [a for a in fig.layout.annotations if a.name == "failed"]
    assert fig.layout.xaxis.type == "log"
    assert len(crosses) == 1 and crosses[0].x == pytest.approx(math.log10(4))
    assert "prefork sync w4 · every load point — failed: out of memory" in crosses[0].hovertext


def test_shared_load_is_the_highest_load_every_member_ran() -> None:
    assert shared_load({1: {8.0, 32.0, 128.0}, 2: {8.0, 32.0}, 4: {8.0, 32.0, 128.0}}) == 32.0
    assert shared_load({1: {8.0}, 2: {32.0}}) is None
    assert shared_load({}) is None


def test_capacity_p99_is_at_one_load_and_each_best_point_names_its_load() -> None:
    """The best cells sit at different loads (w1 at c=8, w2 at c=64): the p99 line does not
    mix them, it shows both workers at the highest load both ran (c=64)."""
    rows = t.three_configs()
    for row in rows:
        if row["cell_id"] == "A64":  # w1's best is now at c=8
            row["rps"] = 900.0
    summary = summarize(t.cells(rows), t.histograms({}))
    fig = capacity_vs(summary, "workers")
    assert fig is not None
    top = _named(fig, "prefork sync")[0]
    assert list(top.y) == [990, 2000] and list(top.text) == ["c=8", "c=64"]
    bottom = [tr for tr in fig.data if tr.yaxis == "y2"]
    assert len(bottom) == 1 and bottom[0].name == "prefork sync at c=64"
    assert list(bottom[0].y) == pytest.approx([70.0, 40.0])  # both at c=64, not 9 then 40
    assert fig.layout.yaxis2.title.text == "p99 at c=64 (ms)"


def test_a_family_without_a_shared_load_gets_no_p99_line() -> None:
    rows = [r for r in t.three_configs() if r["cell_id"] not in ("B1", "B8", "A64")]
    table = same_load_table(summarize(t.cells(rows), t.histograms({})), "workers", ["prefork sync"])
    assert table.empty
