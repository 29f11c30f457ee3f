"""The terminal's worker balance table and profile lines under the summary."""

from __future__ import annotations

from rich.console import Console

from bench.runner.results.schema import CELL_COLUMNS, frame
from bench.runner.session.attribution_view import render_attribution


def test_balance_and_profile_lines_are_printed() -> None:
    rows = [
        {
            "cell_id": "a",
            "cell_index": 0,
            "repetition": 0,
            "server": "prefork",
            "worker_class": "sync",
            "workers": 2,
            "mode": "closed",
            "concurrency": 8,
            "status": "ok",
            "p99_us": 3000.0,
            "worker_cpu_shares": "[0.4, 0.6]",
            "worker_request_shares": "[0.41, 0.59]",
            "profile_note": "py-spy is not installed",
        },
    ]
    console = Console(record=True, width=160)
    render_attribution(console, frame(rows, CELL_COLUMNS))
    text = console.export_text()
    assert "60% / 40%" in text and "59% / 41%" in text and "3 ms" in text
    assert "no profile prefork sync w2 · c=8 r1: py-spy is not installed" in text


def test_nothing_is_printed_for_single_worker_unprofiled_runs() -> None:
    rows = [
        {
            "cell_id": "a",
            "cell_index": 0,
            "repetition": 0,
            "server": "eventloop",
            "workers": 1,
            "mode": "closed",
            "concurrency": 8,
            "status": "ok",
            "worker_cpu_shares": "[1.0]",
        }
    ]
    console = Console(record=True, width=160)
    render_attribution(console, frame(rows, CELL_COLUMNS))
    assert console.export_text() == ""
