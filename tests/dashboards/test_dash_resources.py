"""Server CPU and memory per configuration."""

from __future__ import annotations

import dash_tables as t
import pytest

from bench.dashboards.figures.resources import server_resources
from bench.runner.results.summary import summarize


def test_cpu_cores_cpu_per_request_and_rss() -> None:
    summary = summarize(t.cells(t.three_configs()), t.histograms({}))
    fig = server_resources(summary, server_cpus=1)
    busy, per_request, rss = [tr for tr in fig.data if tr.name == "prefork sync w2"]
    assert list(busy.y) == pytest.approx([0.5, 0.5, 0.5])  # 5 CPU s over a 10 s window
    assert list(per_request.y) == pytest.approx([1000.0, 5e6 / 18000, 250.0])  # µs per request
    assert list(rss.y) == pytest.approx([50.0, 50.0, 50.0])  # MiB
    assert busy.showlegend is True and rss.showlegend is False
    assert fig.layout.yaxis.title.text == "CPU busy (cores)"
    assert fig.layout.yaxis2.title.text == "CPU per request (µs)"
    assert fig.layout.yaxis3.title.text == "peak RSS (MiB)"
    assert any(s.y0 == 1 for s in fig.layout.shapes)  # the pinned-CPU line
    assert [a.text for a in fig.layout.annotations if a.name == "failed"] == ["✕"]


def test_no_samples_say_so() -> None:
    rows = [t.cell_row("X", label="prefork sync w1", concurrency=1, server_cpu_s=None,
                       server_rss_peak_bytes=None)]  # fmt: skip
    fig = server_resources(summarize(t.cells(rows), t.histograms({})))
    assert not fig.data and "No server CPU" in fig.layout.annotations[0].text
