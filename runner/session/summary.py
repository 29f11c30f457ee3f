"""The end-of-run terminal summary: one line per cell, from ``bench.runner.results.summary``.

The numbers and the status are the per-cell summary's (the dashboard reads the same):
throughput is the median and the min–max of the usable repetitions; p50 and p99 come
from their histograms merged (percentiles are never averaged); the status follows
``bench.runner.results.status.cell_status``. This module only picks the terminal's columns, and counts the cells a run measured
(``count_cells``), which decides ``bench run``'s exit code.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from bench.runner.results.status import USABLE
from bench.runner.results.summary import summarize as summarize_cells


def _value(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def summarize(cells: pd.DataFrame, histograms: pd.DataFrame) -> list[dict[str, Any]]:
    """One dict per cell (in matrix order) for ``bench.runner.session.progress.render_summary``."""
    out: list[dict[str, Any]] = []
    if cells.empty:
        return out
    for row in summarize_cells(cells, histograms).to_dict("records"):
        usable = int(row["reps_usable"])
        verdict = row["slo_pass"]
        out.append(
            {
                "cell_id": row["cell_id"],
                "label": str(row["config"]),
                "load": str(row["load_label"]),
                "reps": int(row["reps"]),
                "reps_ok": usable,
                "rps_median": _value(row["rps"]),
                "rps_min": _value(row["rps_min"]),
                "rps_max": _value(row["rps_max"]),
                "p50_us": _value(row["p50_us"]),
                "p99_us": _value(row["p99_us"]),
                "latency_resolution_us": _value(row["latency_resolution_us"]),
                "errors": int(_value(row["errors"]) or 0) if usable else 0,
                "server_cpu_util": _value(row["server_cpu_util"]),
                "cpu_per_request_us": _value(row["cpu_us_per_request"]),
                "slo": ""
                if verdict is None or verdict is pd.NA
                else ("pass" if verdict else "fail"),
                "status_kind": str(row["status_kind"]),
                "status": _status_text(row),
            }
        )
    return out


def _status_text(row: dict[str, Any]) -> str:
    """The status column: the cell's text, with an overloaded cell's reason (printed on
    its line above the table) shortened to the share it served."""
    text = str(row["status_text"])
    if row["status_kind"] != "overloaded":
        return text
    share = _value(row.get("served_share"))
    short = f"overloaded ({share:.0%} served)" if share is not None else "overloaded"
    return short + str(row.get("status_note") or "")


def count_cells(rows: list[dict[str, Any]]) -> dict[str, int]:
    """``{"measured": …, "failed": …, "skipped": …}`` over summary rows (``summarize``).

    A cell is measured when its status kind is usable (ok, engine-bound, …), skipped
    when every repetition was skipped, and failed otherwise.
    """
    counts = {"measured": 0, "failed": 0, "skipped": 0}
    for row in rows:
        kind = row["status_kind"]
        counts["measured" if kind in USABLE else "skipped" if kind == "skipped" else "failed"] += 1
    return counts


def describe_counts(counts: dict[str, int]) -> str:
    """``"3 of 4 cells measured (1 failed, 0 skipped)"``."""
    total = sum(counts.values())
    return (
        f"{counts['measured']} of {total} cell{'s' if total != 1 else ''} measured "
        f"({counts['failed']} failed, {counts['skipped']} skipped)"
    )
