"""The terminal summary's status column."""

from __future__ import annotations

from bench.runner.session.summary import _status_text


def test_the_terminal_shortens_an_overloaded_cell_and_keeps_its_note() -> None:
    row = {
        "status_kind": "overloaded",
        "status_text": "overloaded: fell behind (1 of 2 repetitions failed: crashed)",
        "status_note": " (1 of 2 repetitions failed: crashed)",
        "served_share": 0.66,
    }
    assert _status_text(row) == "overloaded (66% served) (1 of 2 repetitions failed: crashed)"
