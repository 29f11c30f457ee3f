"""Latency vs throughput (hockey stick) and the percentile spectrum."""

from __future__ import annotations

import dash_tables as t
import pytest

from bench.dashboards.figures.latency import (
    latency_vs_throughput,
    percentile_spectrum,
    saturation_index,
    throughput_axis_type,
)
from bench.runner.results.slo import Slo
from bench.runner.results.summary import merged_histograms, summarize


def _summary(slo: Slo | None = None):
    return summarize(t.cells(t.three_configs()), t.histograms({}), slo)


def _traces(fig, **meta):
    return [tr for tr in fig.data if all((tr.meta or {}).get(k) == v for k, v in meta.items())]


@pytest.mark.parametrize(
    ("rps", "index"),
    [
        ([100, 190, 200], 1),  # 190 ≥ 95 % of 200: saturated at the 2nd point
        ([100, 150, 200], None),  # still growing at the last point
        ([200, 200, 200], 0),
        ([100, 200], None),  # too few points to tell
        ([100, float("nan"), 200], None),
    ],
)
def test_saturation_index(rps: list[float], index: int | None) -> None:
    assert saturation_index(rps) == index


def test_hockey_stick_has_p99_and_p50_per_config_in_load_order() -> None:
    fig = latency_vs_throughput(_summary())
    p99 = _traces(fig, config="prefork sync w2", percentile="p99")[0]
    p50 = _traces(fig, config="prefork sync w2", percentile="p50")[0]
    assert list(p99.x) == [500, 1800, 2000]  # achieved req/s, in load order
    assert list(p99.y) == pytest.approx([2.0, 5.0, 40.0])  # ms (values span past 2 ms)
    assert p50.line.dash == "dot" and p99.line.dash == "solid"
    assert p99.showlegend is True and p50.showlegend is False
    assert fig.layout.xaxis.title.text == "achieved throughput (req/s)"
    assert fig.layout.yaxis.title.text == "latency (ms)"


def test_failed_cell_is_a_legend_entry_never_a_zero() -> None:
    fig = latency_vs_throughput(_summary())
    eventloop = _traces(fig, config="eventloop w1", percentile="p99")[0]
    assert len(eventloop.x) == 2  # c=64 failed: not plotted
    assert 0 not in list(eventloop.y)
    failed = _traces(fig, role="failed")
    assert len(failed) == 1
    assert failed[0].name == "✕ failed: eventloop w1 · c=64"
    assert list(failed[0].y) == [None]
    assert failed[0].meta["reason"] == "failed: server exited with code 1"


def test_engine_bound_points_are_open_rings() -> None:
    fig = latency_vs_throughput(_summary())
    eventloop = _traces(fig, config="eventloop w1", percentile="p99")[0]
    assert list(eventloop.marker.symbol) == ["circle", "circle-open"]
    assert "engine-bound" in eventloop.hovertext[1]


def test_saturation_points_are_marked() -> None:
    fig = latency_vs_throughput(_summary())
    stars = _traces(fig, role="saturation")[0]
    # A reaches 95 % of its best at c=8 (990 of 1000); B only at its last point (not saturated)
    assert list(stars.x) == [990]
    assert "prefork sync w1: saturates at 990 req/s (c=8)" in stars.hovertext[0]


def test_slo_line_sits_at_the_limit_in_the_axis_unit() -> None:
    fig = latency_vs_throughput(_summary(), Slo({"p99": 10_000.0}))
    lines = [s for s in fig.layout.shapes if s.name == "slo-p99"]
    assert len(lines) == 1 and lines[0].y0 == lines[0].y1 == 10.0  # 10 ms
    labels = [a.text for a in fig.layout.annotations if a.name == "slo-p99"]
    assert labels == ["SLO p99 ≤ 10 ms"]


def test_latency_axis_goes_log_when_values_span_decades() -> None:
    fig = latency_vs_throughput(_summary())  # 600 µs .. 70 ms
    assert fig.layout.yaxis.type == "log"
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["linear", "log"]


@pytest.mark.parametrize(
    ("rps", "axis"),
    [
        ((20.0, 40.0, 5415.0), "log"),  # sync workers at 20 req/s beside an event loop
        ((500.0, 1800.0, 4000.0), "linear"),  # 8×: linear still reads
    ],
)
def test_throughput_axis_goes_log_past_10x(rps: tuple[float, ...], axis: str) -> None:
    rows = [
        t.cell_row(f"X{i}", label=f"prefork sync w{i + 1}", concurrency=8, rps=v, cell_index=i)
        for i, v in enumerate(rps)
    ]
    fig = latency_vs_throughput(summarize(t.cells(rows), t.histograms({})))
    assert throughput_axis_type(rps) == axis
    assert fig.layout.xaxis.type == axis
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["linear", "log"]


def test_no_usable_cell_says_so() -> None:
    rows = [t.cell_row("F", label="prefork sync w1", concurrency=1, rps=None, status="failed: x")]
    fig = latency_vs_throughput(summarize(t.cells(rows), t.histograms({})))
    assert not fig.data
    assert "No cell produced numbers" in fig.layout.annotations[0].text


def _spectrum_inputs():
    rows = [
        t.cell_row("A1", label="prefork sync w1", concurrency=1, cell_index=0),
        t.cell_row("A8", label="prefork sync w1", concurrency=8, cell_index=1),
        t.cell_row("B8", label="eventloop w1", concurrency=8, cell_index=2),
        t.cell_row("B9", label="eventloop w1", concurrency=9, rps=None, status="failed: boom",
                   cell_index=3),
    ]  # fmt: skip
    pairs = {(c, 0): [(100, 900), (5_000, 99), (40_000, 1)] for c in ("A1", "A8", "B8")}
    hist = t.histograms(pairs)
    summary = summarize(t.cells(rows), hist)
    return summary, merged_histograms(hist, list(pairs))


def test_spectrum_has_one_curve_per_cell_and_shows_the_top_load_first() -> None:
    summary, merged = _spectrum_inputs()
    fig = percentile_spectrum(summary, merged, Slo({"p99": 10_000.0}))
    curves = [tr for tr in fig.data if "load" in (tr.meta or {})]
    assert sorted(tr.meta["cell_id"] for tr in curves) == ["A1", "A8", "B8"]
    visible = {tr.meta["cell_id"] for tr in curves if tr.visible}
    assert visible == {"A8", "B8"}  # c=8 is the highest load with data
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.yaxis.type == "log"  # fast configurations do not hug the floor
    assert list(fig.layout.xaxis.ticktext) == ["min", "p50", "p90", "p99", "p99.9"]
    curve = next(tr for tr in curves if tr.meta["cell_id"] == "A8")
    assert curve.y[list(curve.x).index(100.0)] == pytest.approx(5.0)  # p99 = 5 ms


def test_spectrum_menu_switches_load_and_keeps_slo_and_failed_entries() -> None:
    summary, merged = _spectrum_inputs()
    fig = percentile_spectrum(summary, merged, Slo({"p99": 10_000.0}))
    menu = fig.layout.updatemenus[0]
    assert [b.label for b in menu.buttons] == ["c=1", "c=8"]
    roles = [(tr.meta or {}).get("role") for tr in fig.data]
    for button in menu.buttons:
        shown = button.args[0]["visible"]
        assert len(shown) == len(fig.data)
        assert all(shown[i] for i, role in enumerate(roles) if role in ("slo", "failed"))
    slo = _traces(fig, role="slo")[0]
    assert list(slo.y) == [10.0, 10.0] and slo.x[0] == pytest.approx(100.0)
    assert _traces(fig, role="failed")[0].name == "✕ failed: eventloop w1 · c=9"
