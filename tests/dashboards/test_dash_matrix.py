"""The configuration × load heatmap."""

from __future__ import annotations

import dash_tables as t

from bench.dashboards.figures.matrix import matrix_heatmap
from bench.runner.results.slo import Slo
from bench.runner.results.summary import summarize


def _fig(slo=None):
    return matrix_heatmap(summarize(t.cells(t.three_configs()), t.histograms({}), slo), slo)


def test_grid_rows_are_configs_and_columns_load_points() -> None:
    fig = _fig()
    rps, p99 = fig.data
    assert list(rps.y) == ["prefork sync w1", "prefork sync w2", "eventloop w1"]
    assert list(rps.x) == ["c=1", "c=8", "c=64"]
    assert list(rps.z[0]) == [500, 990, 1000]
    assert list(p99.z[1]) == [2.0, 5.0, 40.0]  # ms
    assert rps.visible is True and p99.visible is False
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["throughput", "p99 latency"]
    assert buttons[1].args[0]["visible"] == [False, True]


def test_failed_tile_is_empty_and_marked_engine_bound_is_a_lower_bound() -> None:
    fig = _fig()
    rps = fig.data[0]
    assert rps.z[2][2] is None  # eventloop at c=64 failed: no colour, never 0
    assert rps.text[2][1] == "≥ 4,000"
    marks = [a for a in fig.layout.annotations if a.name == "failed"]
    assert [(m.x, m.y, m.text) for m in marks] == [("c=64", "eventloop w1", "✕ failed")]
    assert "server exited with code 1" in marks[0].hovertext


def test_slo_verdict_on_each_tile() -> None:
    fig = _fig(Slo({"p99": 10_000.0}))
    text = fig.data[0].text
    assert text[0][1] == "990 ✓" and text[0][2] == "1,000 ✗"
    assert "SLO p99 ≤ 10 ms" in fig.layout.title.subtitle.text


def test_labels_are_escaped() -> None:
    rows = [t.cell_row("X", label="<b>bold</b> w1", concurrency=1)]
    fig = matrix_heatmap(summarize(t.cells(rows), t.histograms({})))
    assert list(fig.data[0].y) == ["&lt;b&gt;bold&lt;/b&gt; w1"]
