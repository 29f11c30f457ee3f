"""The plan's limits state what each event cost, and every action not taken."""

from __future__ import annotations

import pandas as pd

from bench.runner.plan.event_limits import event_limits
from bench.runner.results.schema import EVENT_COLUMNS, frame

CELLS = pd.DataFrame(
    {"cell_id": ["a", "b"], "repetition": [0, 0], "label": ["prefork sync w2", "uvicorn w1"]}
)


def test_event_costs_and_skips_are_limits() -> None:
    events = frame(
        [
            {
                "cell_id": "a",
                "repetition": 0,
                "event_index": 0,
                "action": "kill-worker",
                "status": "done",
                "errors": 3,
                "errors_connect": 0,
                "lost": 3,
                "recovered": True,
                "recovery_s": 2.0,
                "p99_us": 1_430_000.0,
                "steady_p99_us": 20_000.0,
            },
            {
                "cell_id": "b",
                "repetition": 0,
                "event_index": 0,
                "action": "kill-worker",
                "status": "skipped: uvicorn --workers 1 is one process with no master",
            },
        ],
        EVENT_COLUMNS,
    )
    kinds = [(limit.kind, limit.text) for limit in event_limits(events, CELLS)]
    assert kinds[0][0] == "events"
    assert kinds[1] == (
        "event cost",
        "prefork sync w2 · kill-worker (×1): 3 errors (0 failed connects), 3 lost, "
        "recovered in 2 s; p99 1,430 ms in the event window vs 20 ms steady",
    )
    assert kinds[2] == (
        "event not taken",
        "kill-worker on uvicorn w1: skipped: uvicorn --workers 1 is one process with no master",
    )


def test_no_events_no_limits() -> None:
    assert event_limits(frame([], EVENT_COLUMNS), CELLS) == []
