"""WebSocket figures: messages/s, round-trips, connection set-up."""

from __future__ import annotations

import dash_tables as t
import pytest

from bench.dashboards.figures.websocket import websocket_figure
from bench.runner.results.summary import summarize


def _ws_rows():
    rows = []
    for i, (c, size, status) in enumerate(
        [(10, 32, "ok"), (100, 32, "ok"), (10, 4096, "ok"), (100, 4096, "failed: connect refused")]
    ):
        rows.append(
            t.cell_row(f"W{i}", label="eventloop w1", concurrency=c, message_size=size,
                       rps=None if status != "ok" else 9000.0 / size ** 0.1, p99=800.0 * c,
                       ws_connect_p50_us=150.0 + c, status=status, cell_index=i)
        )  # fmt: skip
    return rows


def test_none_without_websocket_cells() -> None:
    assert websocket_figure(summarize(t.cells(t.three_configs()), t.histograms({}))) is None


def test_one_series_per_message_size_three_rows() -> None:
    fig = websocket_figure(summarize(t.cells(_ws_rows()), t.histograms({})))
    assert fig is not None
    rate = [tr for tr in fig.data if tr.name == "eventloop w1 · 32 B"]
    assert len(rate) == 1 and list(rate[0].x) == [10, 100]
    assert "msg/s" in rate[0].hovertext[0] and "req/s" not in rate[0].hovertext[0]
    rtt = next(tr for tr in fig.data if tr.name == "eventloop w1 · 32 B p99")
    assert list(rtt.y) == pytest.approx([8.0, 80.0])  # ms
    connect = next(tr for tr in fig.data if tr.name == "eventloop w1 · 32 B connect")
    assert list(connect.y) == pytest.approx([160.0, 250.0])  # µs
    assert fig.layout.yaxis.title.text == "messages/s"
    assert fig.layout.yaxis3.title.text == "connect p50 (µs)"
    failed = next(tr for tr in fig.data if tr.name == "eventloop w1 · 4096 B")
    assert list(failed.x) == [10]
    crosses = [a for a in fig.layout.annotations if a.name == "failed"]
    assert len(crosses) == 1 and "connect refused" in crosses[0].hovertext
