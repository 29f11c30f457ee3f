"""The report's event views: marks on the time series, the event-aligned view, the cost table."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.dashboards.figures.events import event_aligned, event_cost_table, mark_events
from bench.dashboards.theme import subplots
from bench.runner.results.event_table import event_ranking
from bench.runner.results.schema import EVENT_COLUMNS, TIMESERIES_COLUMNS, frame

CELLS = pd.DataFrame(
    {"cell_id": ["a", "b"], "repetition": [0, 0], "label": ["prefork sync w2", "gunicorn sync w2"]}
)


def events() -> pd.DataFrame:
    rows = [
        {"cell_id": "a", "repetition": 0, "event_index": 0, "action": "reload", "status": "done",
         "fired_at_s": 4.0, "window_from_s": 4.0, "window_to_s": 6.0, "recovered": True,
         "recovery_s": 1.0, "errors": 0, "lost": 0, "unsent": 0, "p99_us": 9000.0,
         "steady_p99_us": 2000.0},
        {"cell_id": "b", "repetition": 0, "event_index": 0, "action": "reload", "status": "done",
         "fired_at_s": 4.1, "window_from_s": 4.0, "window_to_s": 8.0, "recovered": False,
         "recovery_s": None, "errors": 12, "lost": 3, "unsent": 0, "p99_us": 90000.0,
         "steady_p99_us": 2000.0},
        {"cell_id": "b", "repetition": 0, "event_index": 1, "action": "scale-up",
         "status": "skipped: no TTIN"},
    ]  # fmt: skip
    return frame(rows, EVENT_COLUMNS)


def series() -> pd.DataFrame:
    rows = [
        {"cell_id": c, "repetition": 0, "t_s": float(t), "span_s": 1.0, "requests": 100.0,
         "errors": 5.0 if (c == "b" and t == 4) else 0.0, "p99_us": 2000.0 + 1000 * (t == 4),
         "drain": False}
        for c in ("a", "b") for t in range(10)
    ]  # fmt: skip
    return frame(rows, TIMESERIES_COLUMNS)


def test_each_event_taken_is_marked_and_its_window_shaded_on_every_row() -> None:
    fig = mark_events(subplots(3), events())
    shapes = fig.layout.shapes
    lines = [s for s in shapes if s.type == "line"]
    bands = [s for s in shapes if s.type == "rect"]
    assert len(lines) == 3 and len(bands) == 3  # one event taken (the skip is not drawn), 3 rows
    assert {b.x0 for b in bands} == {4.0} and {b.x1 for b in bands} == {8.0}  # widest window
    assert lines[0].x0 == 4.05  # the median time it was taken
    assert [a.text for a in fig.layout.annotations] == ["reload"]


def test_the_aligned_view_starts_each_configuration_at_its_action() -> None:
    fig = event_aligned(events(), series(), CELLS)
    names = {t.name for t in fig.data}
    assert names == {"prefork sync w2", "gunicorn sync w2"}
    gunicorn_p99 = next(t for t in fig.data if t.name == "gunicorn sync w2" and t.yaxis == "y")
    # its action was at 4.1 s: the second starting at 4.0 s sits 0.1 s before it
    assert min(abs(x) for x in gunicorn_p99.x) == pytest.approx(0.1)
    assert max(gunicorn_p99.y) == 3.0  # the slow second, in ms


def test_the_cost_table_ranks_cheapest_first_and_says_never_and_skipped() -> None:
    ranking = event_ranking(events(), CELLS)
    reload = ranking[ranking["action"] == "reload"]
    assert list(reload["label"]) == ["prefork sync w2", "gunicorn sync w2"]  # 0 errors first
    assert list(reload["errors"]) == [0, 12] and list(reload["lost"]) == [0, 3]
    assert pd.isna(reload.iloc[1]["recovery_s"])  # never recovered
    skipped = ranking[ranking["action"] == "scale-up"].iloc[0]
    assert skipped["status"] == "skipped"
    table = event_cost_table(ranking).data[0]
    columns = dict(zip(table.header.values, table.cells.values, strict=True))
    assert "never" in columns["recovery (s)"]
    assert columns["p99 (ms)"][0] == "9"
