"""Per-second time series of a cell, with the warm-up shaded."""

from __future__ import annotations

import dash_tables as t
import pandas as pd
import pytest

from bench.dashboards.figures.timeseries import TIME_PAD, cell_timeseries, default_cell, time_range
from bench.runner.results.summary import summarize


def _inputs():
    rows = [
        t.cell_row("A1", label="prefork sync w1", concurrency=1, cell_index=0),
        t.cell_row("A8", label="prefork sync w1", concurrency=8, cell_index=1),
        t.cell_row("A8", label="prefork sync w1", concurrency=8, repetition=1, cell_index=1),
    ]
    points = [
        {"cell_id": c, "repetition": r, "t_s": float(s), "span_s": span, "requests": 100.0 * (s + 1),
         "errors": float(s), "p50_us": 500.0, "p99_us": 2500.0 + s + 10 * r}
        for c, r in (("A1", 0), ("A8", 0), ("A8", 1))
        for s, span in ((0, 1.0), (1, 1.0), (2, 0.5))
    ]  # fmt: skip
    return summarize(t.cells(rows), t.histograms({})), t.timeseries(points)


def _trace(fig, slot, row):
    return next(tr for tr in fig.data if tr.meta == {"slot": slot, "row": row})


def test_three_rows_per_repetition_and_rates_per_second() -> None:
    summary, series = _inputs()
    fig = cell_timeseries(summary, series)
    assert len(fig.data) == 2 * 3  # two repetition slots × (req/s, errors/s, p99)
    rps, errors, p99 = (_trace(fig, 0, row) for row in ("rps", "errors", "p99"))
    assert list(rps.x) == [0.0, 1.0, 2.0]
    assert list(rps.y) == [100.0, 200.0, 600.0]  # the last half-second: 300 / 0.5 s
    assert list(errors.y) == [0.0, 1.0, 4.0]
    assert list(p99.y) == pytest.approx([2.5, 2.501, 2.502])  # ms
    assert list(_trace(fig, 1, "p99").y) == pytest.approx([2.51, 2.511, 2.512])
    assert (rps.yaxis, errors.yaxis, p99.yaxis) == ("y", "y2", "y3")
    assert rps.showlegend is True and p99.showlegend is False
    assert rps.name == "rep 0" and "prefork sync w1</b> · c=8 · rep 0" in rps.hovertemplate
    assert fig.layout.yaxis.title.text == "req/s"
    assert fig.layout.yaxis3.title.text == "p99 (ms)"


def test_busiest_cell_shown_first_and_menu_swaps_in_each_cells_data() -> None:
    summary, series = _inputs()
    assert default_cell(summary, {"A1", "A8"}) == "A8"
    fig = cell_timeseries(summary, series)
    menu = fig.layout.updatemenus[0]
    assert [b.label for b in menu.buttons] == ["prefork sync w1 · c=1", "prefork sync w1 · c=8"]
    assert menu.active == 1
    a1 = menu.buttons[0].args[0]
    assert menu.buttons[0].method == "restyle"
    assert a1["visible"] == [True, True, True, False, False, False]  # A1 has one repetition
    assert a1["y"][0] == [100.0, 200.0, 600.0] and a1["x"][3] == []
    a8 = menu.buttons[1].args[0]
    assert a8["y"][5] == pytest.approx(list(_trace(fig, 1, "p99").y))


def test_warmup_is_shaded_before_zero() -> None:
    summary, series = _inputs()
    fig = cell_timeseries(summary, series)
    bands = [s for s in fig.layout.shapes if s.name == "warmup"]
    assert len(bands) == 3
    assert all((s.x0, s.x1) == (-2.0, 0) for s in bands)  # warmup_s = 2 s


def test_no_series_says_so() -> None:
    summary, _ = _inputs()
    fig = cell_timeseries(summary, t.timeseries([]))
    assert not fig.data and "No per-second" in fig.layout.annotations[0].text


def test_time_axis_starts_a_little_before_the_warm_up() -> None:
    """0.2 s points of a 2 s window after 1 s of warm-up: the axis runs from just before
    -1 s (so the first tick clears the y axis's 0) to the end of the last point."""
    series = pd.DataFrame({"t_s": [i / 5 for i in range(10)], "span_s": [0.2] * 10})
    start, end = time_range(series, 1.0)
    assert end == pytest.approx(2.0)
    assert start == pytest.approx(-1.0 - TIME_PAD * 3.0) and start < -1.0
