"""The report's panels for a scenario with ``events:`` (none without events).

The per-second time series gets each event marked and its window shaded
(``bench.dashboards.figures.events.mark_events``); two panels follow it: the time series
around each event, aligned on the action, and the table of what each event cost per
configuration (``bench.runner.results.event_table.event_ranking``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from bench.dashboards.figures.events import event_aligned, event_cost_table, mark_events
from bench.runner.results.event_table import event_ranking, load_events

if TYPE_CHECKING:
    from bench.dashboards.panels import Panel
    from bench.dashboards.run import RunView


def event_panels(view: RunView, timeseries_figure: go.Figure) -> list[Panel]:
    """Mark the events on ``timeseries_figure`` (in place) and return the event panels."""
    from bench.dashboards.panels import Panel

    events = load_events(view.run_dir, view.cells)
    if not len(events):
        return []
    mark_events(timeseries_figure, events)
    return [
        Panel(
            "events-cost",
            "What the events cost",
            "Per configuration and action, over the repetitions: errors and lost requests "
            "(sent, never answered) inside the event window, requests a closed loop never "
            "sent, the time until per-second p99 was back within the scenario's factor of "
            "the steady state before the event (never: not before the window ended), and "
            "the worst p99 / p99.9 / max inside the window against the steady p99. Skipped "
            "actions (the server cannot take them) are listed with status skipped.",
            event_cost_table(event_ranking(events, view.cells)),
        ),
        Panel(
            "events-aligned",
            "Around each event",
            "Per-second p99 and errors of each configuration's first repetition, with t = 0 "
            "at the moment the action was taken; pick the event in the menu. The dashed "
            "lines and shaded bands on the time series above mark the events and their "
            "windows.",
            event_aligned(events, view.timeseries, view.cells),
        ),
    ]
