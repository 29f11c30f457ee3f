"""The configuration × load heatmap."""

from __future__ import annotations

import dash_tables as t

from bench.dashboards.figures.matrix import column_shares, matrix_heatmap
from bench.runner.results.slo import Slo
from bench.runner.results.summary import summarize


def _fig(slo=None):
    return matrix_heatmap(summarize(t.cells(t.three_configs()), t.histograms({}), slo), slo)


def test_grid_rows_are_configs_and_columns_load_points() -> None:
    fig = _fig()
    rps, p99 = fig.data
    assert list(rps.y) == ["prefork sync w1", "prefork sync w2", "eventloop w1"]
    assert list(rps.x) == ["c=1", "c=8", "c=64"]
    assert list(rps.customdata[0]) == [500, 990, 1000]
    assert list(p99.customdata[1]) == [2.0, 5.0, 40.0]  # ms
    assert rps.visible is True and p99.visible is False
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["throughput", "p99 latency"]
    assert buttons[1].args[0]["visible"] == [False, True]


def test_failed_tile_is_empty_and_marked_engine_bound_is_a_lower_bound() -> None:
    fig = _fig()
    rps = fig.data[0]
    assert (
        rps.z[2][2] is None and rps.customdata[2][2] is None
    )  # eventloop at c=64 failed: no colour, never 0
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


def test_colour_is_the_share_of_each_columns_best() -> None:
    fig = _fig()
    rps, p99 = fig.data
    by_config = dict(zip(rps.y, rps.customdata, strict=True))
    for j in range(len(rps.x)):  # the best cell of every load column is the brightest
        column = [row[j] for row in by_config.values() if row[j] is not None]
        shares = [row[j] for row in rps.z if row[j] is not None]
        assert max(shares) == 1.0
        assert shares == [v / max(column) for v in column]
    assert (rps.zmin, rps.zmax) == (0.0, 1.0)
    p99s = [row[0] for row in p99.customdata]
    best = p99s.index(min(p99s))  # the lowest p99 of c=1 is its brightest tile
    assert p99.z[best][0] == 1.0 and all(row[0] <= 1.0 for row in p99.z)
    assert "share of each column's best" in fig.layout.title.subtitle.text


def test_column_shares_rules() -> None:
    values = [[5415.0, 10.0, None], [100.0, 20.0, 0.0]]
    assert column_shares(values, True) == [[1.0, 0.5, None], [100 / 5415, 1.0, None]]
    assert column_shares([[2.0], [8.0]], False) == [[1.0], [0.25]]
