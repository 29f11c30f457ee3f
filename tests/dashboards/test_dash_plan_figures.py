"""The capacity plan's figures on a realistic run: readable value labels, log axes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.dashboards.plan.figures import bar_label_x, capacity_figure, latency_figure
from bench.dashboards.theme import log_ticks
from bench.runner.plan.analysis import build_plan
from bench.runner.results.slo import Slo


@pytest.fixture(scope="module")
def plan(io_run: Path):
    return build_plan(io_run, Slo({"p99": 100_000.0}, 0.01), target_rps=3000.0)


def test_log_ticks_are_1_2_5_never_every_digit() -> None:
    assert log_ticks([40.0, 3000.0]) == {"dtick": "D2"}  # 1.9 decades: 50, 100, 200, 500…
    assert log_ticks([0.05, 3000.0]) == {"dtick": 1}  # 4.8 decades: one tick per decade
    assert log_ticks([200.0, 400.0]) == {}  # a third of a decade: plotly's few digits
    assert log_ticks([None, 5.0, float("nan"), 0.0]) == {}  # fewer than two usable values


def test_capacity_values_sit_past_their_bar_and_whisker(plan) -> None:
    fig = capacity_figure(plan)
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 1 and bars[0].text is None  # no label drawn on the (hatched) bar
    labels = [a for a in fig.layout.annotations if a.name == "capacity-label"]
    caps = [c for c in plan.capacities if c.capacity_rps is not None]
    assert [a.y for a in labels] == list(bars[0].y)
    for label, cap, end in zip(labels, caps, bar_label_x(caps), strict=True):
        top = cap.spread[1] if cap.spread else cap.capacity_rps
        assert label.x == end >= top >= cap.capacity_rps
        assert label.xanchor == "left" and label.showarrow is False
        assert label.text.startswith("≥ ") == cap.lower_bound
        assert label.font.color is None  # the page's text colour, light or dark
    planned = next(t for t in fig.data if t.type == "scatter")
    assert all(x is None or x < a.x for x, a in zip(planned.x, labels, strict=True))
    assert fig.layout.xaxis.range[1] > max(a.x for a in labels)


def test_plan_latency_axes_are_log_with_1_2_5_ticks(plan) -> None:
    fig = latency_figure(plan)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick in ("D2", 1)
    rates = [x for t in fig.data for x in (t.x or ()) if x]
    assert max(rates) / min(rates) >= 10  # sync w1 at ~170 req/s, the event loop at ~8,500
    assert fig.layout.xaxis.type == "log"
    slo = next(t for t in fig.data if t.name and t.name.startswith("SLO"))
    assert min(slo.x) > 0  # a log axis has no 0
